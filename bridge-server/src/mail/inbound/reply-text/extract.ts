import { htmlToReplyText } from './html.js';
import { isForwardSubject } from './markers.js';
import { stripSignature } from './signature.js';
import { cutQuotedHistory } from './text.js';

/**
 * What `wa-bridge reply-text` works from: the bodies of one reply, as parse-source.ts reads them
 * from an .eml or a .txt file. `subject` is optional; when its prefix says the message is a
 * forward ("FW:", "TR:", "WG:" …) Outlook's header block is kept as forwarded content, because
 * Outlook formats a forward exactly like a reply.
 */
export interface ReplyInput {
  text?: string;
  html?: string;
  subject?: string;
}

/** Only this much of a body is looked at; the reply is at the top, hostile input is not. */
export const MAX_TEXT_CHARS = 2_000_000;
export const MAX_LINES = 20_000;
export const MAX_HTML_CHARS = 2_000_000;

/**
 * The text the person wrote in a reply: without quoted history, signature block, disclaimer and
 * mobile footers; LF line endings, no trailing spaces, at most one blank line in a row, trimmed.
 * A forward keeps the forwarded content under the note. Returns '' when the person wrote nothing.
 *
 * The text/plain body is preferred; the HTML is used when there is no plain text, or when it
 * carries a mail client's quote or signature markers (which say more than plain-text heuristics).
 * Pure: no I/O, no clock, bounded work for any input.
 */
export function extractReplyText(input: ReplyInput): string {
  const forward = isForwardSubject(input.subject);
  const plain = input.text ?? '';
  let source = plain;
  if (input.html !== undefined && input.html.trim() !== '') {
    const html = htmlToReplyText(input.html.slice(0, MAX_HTML_CHARS), { forward });
    if (plain.trim() === '' || html.hasMarkers) source = html.text;
  }
  const cut = cutQuotedHistory(toLines(source), { forward });
  const parts = [finish(stripSignature(cut.reply))];
  if (cut.forwarded !== undefined) parts.push(finish(cut.forwarded));
  return parts.filter((part) => part !== '').join('\n\n');
}

/** LF lines, capped; no-break spaces as spaces, zero-width and control characters removed. */
export function toLines(text: string): string[] {
  return text
    .slice(0, MAX_TEXT_CHARS)
    .replace(/\r\n?/gu, '\n')
    .replace(/[\u00a0\u202f]/gu, ' ')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what goes
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\ufeff]/gu, '')
    .split('\n', MAX_LINES);
}

function finish(lines: readonly string[]): string {
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  return out.join('\n').trim();
}
