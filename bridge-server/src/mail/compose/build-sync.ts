import type MimeNode from 'nodemailer/lib/mime-node';
import * as base64 from 'nodemailer/lib/base64';
import * as qp from 'nodemailer/lib/qp';

/**
 * Writes a compiled nodemailer MIME tree to bytes in one synchronous pass, with the tree's own
 * header writer (`buildHeaders`) and nodemailer's Base64 and Quoted-Printable encoders. The bytes
 * are those of `MimeNode.build()` with the composer's options (Windows line ends, no transforms),
 * which tests check on generated mails; what changes is the cost: `build()` streams every part
 * through a pipeline of transforms, one turn of the event loop per part, and for the small
 * mails the relay writes that machinery cost more than the mail itself.
 *
 * Content must be a string or a Buffer (the composer never gives a stream, a path or a URL);
 * anything else throws.
 */
export function buildMimeSync(root: MimeNode): Buffer {
  const parts: Buffer[] = [];
  writeNode(root, parts);
  return toWindowsLineEnds(withLastNewline(Buffer.concat(parts)));
}

function writeNode(node: MimeNode, parts: Buffer[]): void {
  if ((node as unknown as { _raw?: unknown })._raw) throw new Error('buildMimeSync does not write raw nodes');
  // Before buildHeaders, which sets Content-Transfer-Encoding from it.
  const transferEncoding = node.getTransferEncoding();
  parts.push(Buffer.from(`${node.buildHeaders()}\r\n\r\n`, 'latin1'));
  const content = node.content;
  if (content) {
    if (typeof content !== 'string' && !Buffer.isBuffer(content)) throw new Error('buildMimeSync writes string and Buffer content only');
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    if (transferEncoding === 'base64') parts.push(Buffer.from(base64.wrap(base64.encode(bytes), 76), 'latin1'));
    else if (transferEncoding === 'quoted-printable') {
      // Outside text, nodemailer encodes a lone CR or LF as data, which qp.encode does not.
      if (!/^text\//i.test(node.contentType ?? '')) throw new Error('buildMimeSync writes quoted-printable text only');
      parts.push(Buffer.from(quotedPrintable(bytes), 'latin1'));
    } else parts.push(bytes);
  }
  if (!node.multipart) return;
  node.childNodes.forEach((child, index) => {
    parts.push(Buffer.from(`${index > 0 ? '\r\n' : ''}--${String(node.boundary)}\r\n`, 'latin1'));
    writeNode(child, parts);
  });
  parts.push(Buffer.from(`\r\n--${String(node.boundary)}--\r\n`, 'latin1'));
}

/**
 * Quoted-Printable as nodemailer's streaming encoder writes it, which is not always
 * `qp.wrap(qp.encode(bytes))`: the encoder holds back trailing whitespace and its last line, and
 * wraps what follows onto that line. Its own steps are run directly, in one call each.
 */
export function quotedPrintable(bytes: Buffer): string {
  const encoder = new qp.Encoder();
  const out: string[] = [];
  encoder.push = (chunk: unknown) => {
    out.push(String(chunk));
    return true;
  };
  const failed = (error?: Error | null) => {
    if (error) throw error;
  };
  // 'buffer' is what a Writable passes for Buffer chunks; the types name string encodings only.
  encoder._transform(bytes, 'buffer' as BufferEncoding, failed);
  encoder._flush(failed);
  return out.join('');
}

/** The message ends with a line break, as nodemailer's last stage makes sure. */
export function withLastNewline(raw: Buffer): Buffer {
  const last = raw.length > 0 ? raw[raw.length - 1] : undefined;
  if (last === 0x0a) return raw;
  return Buffer.concat([raw, Buffer.from(last === 0x0d ? '\n' : '\r\n', 'latin1')]);
}

/** Every LF not preceded by CR becomes CRLF (RFC 5322 2.1), as nodemailer's `newline: 'win'` does. */
export function toWindowsLineEnds(raw: Buffer): Buffer {
  let lone = 0;
  for (let i = raw.indexOf(0x0a); i >= 0; i = raw.indexOf(0x0a, i + 1)) if (i === 0 || raw[i - 1] !== 0x0d) lone += 1;
  if (lone === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + lone);
  let at = 0;
  let from = 0;
  for (let i = raw.indexOf(0x0a); i >= 0; i = raw.indexOf(0x0a, i + 1)) {
    if (i > 0 && raw[i - 1] === 0x0d) continue;
    at += raw.copy(out, at, from, i);
    out[at++] = 0x0d;
    out[at++] = 0x0a;
    from = i + 1;
  }
  raw.copy(out, at, from);
  return out;
}
