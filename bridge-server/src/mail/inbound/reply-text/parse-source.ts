import { BadInputError } from '../../../core/errors.js';
import type { ReplyInput } from './extract.js';

/**
 * Turns the bytes of a reply file into the bodies extractReplyText works from. Shared by the
 * `reply-text` command and the corpus tests, so both read files the same way. It does not touch
 * the file system: the caller reads the file and checks its size.
 *
 * `.eml` is an RFC 5322 message (MIME, quoted-printable, base64 and charsets decoded by
 * mailparser; the HTML is not converted by mailparser, html.ts does that). `.txt` is a plain body,
 * UTF-8 or else Windows-1252. Any other name is sniffed: header fields first means a message.
 *
 * Throws BadInputError `not_a_message` for binary data or a message without a single header field.
 */
export async function parseReplySource(bytes: Uint8Array, name: string): Promise<ReplyInput> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lower = name.toLowerCase();
  const isMessage = lower.endsWith('.eml') || (!lower.endsWith('.txt') && looksLikeMessage(buffer));
  return isMessage ? parseMessage(buffer, name) : { text: decodeText(buffer, name) };
}

async function parseMessage(buffer: Buffer, name: string): Promise<ReplyInput> {
  // Loaded on use: a bridge loads this module with its commands but seldom parses a file.
  const { simpleParser } = await import('mailparser');
  const ends = [buffer.indexOf('\n\n'), buffer.indexOf('\r\n\r\n')].filter((i) => i >= 0);
  const headerEnd = ends.length > 0 ? Math.min(...ends) : Math.min(buffer.length, 65_536);
  if (isBinary(buffer.subarray(0, headerEnd))) throw notParsable(name, 'its header holds binary data');
  const mail = await simpleParser(buffer, {
    skipHtmlToText: true,
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    keepCidLinks: true,
    checksumAlgo: false,
  }).catch((error: unknown) => {
    throw notParsable(name, error instanceof Error ? error.message.split('\n')[0]! : 'mailparser failed');
  });
  if (mail.headers.size === 0) throw notParsable(name, 'it has no RFC 5322 header fields');
  const input: ReplyInput = {};
  if (typeof mail.text === 'string' && mail.text !== '') input.text = mail.text;
  if (typeof mail.html === 'string' && mail.html !== '') input.html = mail.html;
  if (typeof mail.subject === 'string') input.subject = mail.subject;
  return input;
}

function decodeText(buffer: Buffer, name: string): string {
  if (isBinary(buffer.subarray(0, 65_536))) throw notParsable(name, 'it holds binary data, not text');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    return decodeWindows1252(buffer);
  }
}

// Windows-1252 differs from ISO-8859-1 only in 0x80-0x9F; Node's TextDecoder decodes the label
// as ISO-8859-1, so those 32 code points are mapped here (U+FFFD for the five unassigned bytes).
const cp1252High = '€\ufffd‚ƒ„…†‡ˆ‰Š‹Œ\ufffdŽ\ufffd\ufffd‘’“”•–—˜™š›œ\ufffdžŸ';

function decodeWindows1252(buffer: Buffer): string {
  return buffer.toString('latin1').replace(/[\u0080-\u009f]/gu, (c) => cp1252High[c.charCodeAt(0) - 0x80]!);
}

/** A NUL byte, or more than one control character in ten (tabs, line breaks and form feeds aside). */
function isBinary(sample: Buffer): boolean {
  let control = 0;
  for (const byte of sample) {
    if (byte === 0) return true;
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) || byte === 0x7f) control++;
  }
  return control * 10 > sample.length;
}

/** Header fields from the first line on ("Received:", "From:", "MIME-Version:" …). */
function looksLikeMessage(buffer: Buffer): boolean {
  const head = buffer.subarray(0, 4096).toString('latin1');
  return /^(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*){2,}/u.test(head) && /^(?:from|date|subject|message-id|mime-version|received|content-type):/imu.test(head);
}

function notParsable(name: string, why: string): BadInputError {
  return new BadInputError('not_a_message', `${name} is not a readable message or text file: ${why}`);
}
