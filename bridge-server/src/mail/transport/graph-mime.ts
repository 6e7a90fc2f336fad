import { UpstreamError } from '../../core/errors.js';

/**
 * What the Graph route must check and may change in a composed mail before `sendMail` takes it.
 * Pure: bytes in, bytes out.
 *
 * - Graph delivers to the recipients written in the MIME To, Cc and Bcc fields; there is no
 *   separate envelope. A recipient that is only in the SMTP-style envelope would silently get
 *   nothing, so such a mail is refused.
 * - Exchange submits a mail only when its From is the sending mailbox or one it may send as
 *   (otherwise 403 ErrorSendAsDenied, "Send Outlook messages from another user" in the Graph
 *   docs). The relay writes the chat's reply address into From, which no mailbox owns, so the
 *   address inside From becomes the bridge mailbox while the display name stays. Reply-To still
 *   carries the reply address, so Reply in any client still reaches the client on WhatsApp.
 *   Every other byte, Message-ID, threading and X-WhatsApp-* headers included, is left alone.
 */
export function fitMimeForGraph(raw: Buffer, sendingMailbox: string, recipients: string[]): Buffer {
  const { fields, end } = headerFields(raw);
  const addressed = fields
    .filter((f) => /^(to|cc|bcc)$/i.test(f.name))
    .map((f) => unfold(f.text).toLowerCase())
    .join('\n');
  const missing = recipients.filter((address) => !addressed.includes(address.toLowerCase()));
  if (missing.length > 0) {
    throw new UpstreamError(
      'microsoft-graph',
      `The mail names ${missing.length} recipient(s) only in its envelope; Microsoft Graph sendMail delivers only to the To, Cc and Bcc fields of the MIME, so it was not sent.`,
      'permanent',
    );
  }
  const from = fields.find((f) => f.name.toLowerCase() === 'from');
  if (!from) throw new UpstreamError('microsoft-graph', 'The mail has no From field, which Microsoft Graph sendMail needs; it was not sent.', 'permanent');

  const open = from.text.lastIndexOf('<');
  const close = from.text.indexOf('>', open);
  const current = open >= 0 && close > open ? from.text.slice(open + 1, close) : unfold(from.text.slice(from.text.indexOf(':') + 1)).trim();
  if (current.trim().toLowerCase() === sendingMailbox.toLowerCase()) return raw;
  const rewritten = open >= 0 && close > open ? `${from.text.slice(0, open + 1)}${sendingMailbox}${from.text.slice(close)}` : `From: <${sendingMailbox}>`;
  const head = raw.subarray(0, end).toString('latin1');
  const before = head.slice(0, from.start);
  const after = head.slice(from.start + from.text.length);
  return Buffer.concat([Buffer.from(before + rewritten + after, 'latin1'), raw.subarray(end)]);
}

interface HeaderField {
  name: string;
  /** The whole field as written, folding included, without its final line break. */
  text: string;
  /** Offset of the field in the header block. */
  start: number;
}

/** The header block's fields (RFC 5322 2.2: a line starting with white space continues a field). */
function headerFields(raw: Buffer): { fields: HeaderField[]; end: number } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf >= 0 ? lf : raw.length;
  // latin1 maps each byte to one character, so offsets in the text are offsets in the bytes.
  const head = raw.subarray(0, end).toString('latin1');
  const fields: HeaderField[] = [];
  const linePattern = /[^\r\n]*(\r?\n|$)/g;
  let offset = 0;
  for (const match of head.matchAll(linePattern)) {
    const line = match[0];
    if (line === '') break;
    const content = line.replace(/\r?\n$/, '');
    const last = fields.at(-1);
    if (/^[ \t]/.test(content) && last) {
      last.text = head.slice(last.start, offset + content.length);
    } else {
      const colon = content.indexOf(':');
      fields.push({ name: colon > 0 ? content.slice(0, colon).trim() : content, text: content, start: offset });
    }
    offset += line.length;
  }
  return { fields, end };
}

function unfold(text: string): string {
  return text.replace(/\r?\n(?=[ \t])/g, '');
}
