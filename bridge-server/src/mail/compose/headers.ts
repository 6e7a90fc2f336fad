import { BadInputError } from '../../core/errors.js';

/**
 * The one gate every header field passes through on its way into a composed mail. Core already
 * cleans text from WhatsApp (core/header-text.ts); this check is the composer's own guarantee, so
 * that no caller, present or future, can smuggle a line break into the header block and with it
 * a header of its own ("Jane\r\nBcc: evil@example.com"). Error messages name the field, never the
 * value: values carry client names and message text.
 */

// RFC 5322 2.2: a field name is printable US-ASCII (33-126) except the colon.
const fieldNamePattern = /^[\x21-\x39\x3B-\x7E]+$/;

/**
 * Returns `value` unchanged when it is safe to write into header field `field`. Throws
 * BadInputError `header_injection` when it holds CR or LF, and `header_name_invalid` when the
 * field name is not an RFC 5322 field name. RFC 2047 encoding of non-ASCII text is done by the
 * composer's MIME writer afterwards and verified by `checkHeaderBlock`.
 */
export function checkHeader(field: string, value: string): string {
  if (!fieldNamePattern.test(field)) {
    throw new BadInputError('header_name_invalid', `a mail header name must be printable ASCII without a colon; got ${JSON.stringify(field)}`);
  }
  if (/[\r\n]/.test(value)) {
    throw new BadInputError('header_injection', `the ${field} header value contains a line break (CR or LF), which would start a new header; the mail was not composed`, [
      { path: field, message: 'contains CR or LF' },
    ]);
  }
  return value;
}

// RFC 5322 2.1.1: a line must not exceed 998 characters, excluding the CRLF. A bare CR or LF is
// not a line end at all (2.2).
const maxLineLength = 998;
const bareLineBreak = /\r(?!\n)|(?<!\r)\n/;

function headerBlockEnd(raw: Buffer): number {
  const end = raw.indexOf('\r\n\r\n');
  return end === -1 ? raw.length : end;
}

/**
 * Checks the header block of a composed message: pure 7-bit ASCII (so every non-ASCII name and
 * subject really went out RFC 2047-encoded), no bare CR or LF, no line over 998 characters.
 * Throws BadInputError `header_not_ascii` / `header_line_invalid`.
 */
export function checkHeaderBlock(raw: Buffer): void {
  // Regular expressions over the block's text: a byte loop in JavaScript cost three times as much.
  const block = raw.toString('latin1', 0, headerBlockEnd(raw));
  if (/[^\t\r\n\x20-\x7e]/.test(block)) {
    throw new BadInputError('header_not_ascii', 'a composed mail header holds a byte that is not printable ASCII; the mail was not sent');
  }
  if (bareLineBreak.test(block) || block.split('\r\n').some((line) => line.length > maxLineLength)) {
    throw new BadInputError('header_line_invalid', 'a composed mail header line is too long or holds a bare CR or LF; the mail was not sent');
  }
}
