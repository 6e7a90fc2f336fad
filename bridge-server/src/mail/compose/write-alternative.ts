import type { MailComposerOptions } from 'nodemailer/lib/mail-composer';
import * as base64 from 'nodemailer/lib/base64';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import { quotedPrintable, toWindowsLineEnds, withLastNewline } from './build-sync.js';

/**
 * Writes the mail most relays are, a text part and an HTML part and nothing attached, straight
 * from the composer's options to the bytes nodemailer's MailComposer and `buildMimeSync` would
 * write for it, without building a MIME tree first. Each header line is nodemailer's own encoding
 * of the value (`MimeNode#encodeHeaderValue`, its public form of what `buildHeaders` does per
 * header) folded by its `foldLines`; the parts' transfer encodings are chosen by nodemailer's
 * rules. A property test holds the two ways to the same bytes.
 *
 * The tree is built for each mail, its headers are looked up and down its lists and each part's
 * encoding is chosen twice; a relay's lines also repeat from one mail of a chat to the next
 * (addresses, subject, the chat's own headers), so each line is kept once written. Building,
 * composing and hashing a relayed text mail took 217 – 223 µs through the tree, 168 – 175 µs so.
 */

export interface AlternativeMail {
  options: MailComposerOptions;
  /** The custom headers in order, as the composer adds them after the addressing fields. */
  headers: Array<{ key: string; value: string }>;
}

/** Whether `writeAlternativeSync` writes this mail: a text and an HTML part, no attachment. */
export function isAlternativeOnly(options: MailComposerOptions): boolean {
  return (
    typeof options.text === 'string' && options.text !== '' &&
    typeof options.html === 'string' && options.html !== '' &&
    (options.attachments === undefined || options.attachments.length === 0) &&
    typeof options.baseBoundary === 'string' && typeof options.boundaryPrefix === 'string'
  );
}

// Encodes header values as a node of the composer's options would: only textEncoding changes how,
// and the composer leaves it unset.
const encoder = new MimeNode('text/plain');
type Normalizing = { _normalizeHeaderKey: (key: string) => string };
/** The stored form of a header name (the composer keeps nodemailer's method, looked up at each call). */
const normalizeKey = (key: string): string => (encoder as unknown as Normalizing)._normalizeHeaderKey(key);

/** Written header lines by spelled key, stored key and value: a chat's addresses, subject and own headers come back with each mail. */
const lines = new Map<string, string>();
const LINES_KEPT = 8192;

/** A header as buildHeaders writes it: the key as the composer spells it, the value encoded, folded at 76. */
function headerLine(key: string, value: unknown, spell: (key: string) => string): string | undefined {
  const normalized = normalizeKey(key);
  const spelled = cleanKey(spell(normalized), normalized);
  const text = valueText(value);
  // Each part led by its length, so no two different headers share a key.
  const memo = text === undefined ? undefined : `${spelled.length}:${spelled}${normalized.length}:${normalized}${text}`;
  if (memo !== undefined) {
    const known = lines.get(memo);
    if (known !== undefined) return known === '' ? undefined : known;
  }
  const encoded = encoder.encodeHeaderValue(key, value as string);
  const line = (encoded || '').toString().trim() ? mimeFuncs.foldLines(`${spelled}: ${encoded}`, 76) : '';
  if (memo !== undefined) {
    if (lines.size >= LINES_KEPT) lines.clear();
    lines.set(memo, line);
  }
  return line === '' ? undefined : line;
}

type Address = { name?: unknown; address?: unknown };
const isAddress = (value: unknown): value is Address =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype &&
  Object.keys(value).every((key) => (key === 'name' || key === 'address') && typeof (value as Record<string, unknown>)[key] === 'string');

/**
 * The value as text for the memo: a string, or addresses given as plain `{ name, address }`
 * objects (alone or in a list), each part led by its length. undefined for anything else, which
 * is encoded every time.
 */
function valueText(value: unknown): string | undefined {
  if (typeof value === 'string') return `s${value}`;
  const list = Array.isArray(value) ? value : [value];
  let text = 'a';
  for (const entry of list) {
    if (!isAddress(entry)) return undefined;
    const name = typeof entry.name === 'string' ? `${entry.name.length}:${entry.name}` : '-';
    const address = typeof entry.address === 'string' ? `${entry.address.length}:${entry.address}` : '-';
    text += `${name}${address};`;
  }
  return Array.isArray(value) ? `l${text}` : text;
}

/** buildHeaders' treatment of the spelled key: control characters out, the stored key if nothing is left. */
function cleanKey(spelled: unknown, normalized: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what nodemailer takes out of a name
  const cleaned = typeof spelled === 'string' ? spelled.replace(/[\x00-\x1f\x7f]/g, '') : '';
  return cleaned || normalized;
}

type Encoding = '7bit' | 'quoted-printable' | 'base64';

/** getTransferEncoding for a text part with string content. */
function transferEncoding(content: string): Encoding {
  if (mimeFuncs.isPlainText(content) && !mimeFuncs.hasLongerLines(content, 76)) return '7bit';
  // _getTextEncoding without a textEncoding option: more latin letters than binary or non-ASCII.
  let other = 0;
  let latin = 0;
  for (let i = 0; i < content.length; i++) {
    const code = content.charCodeAt(i);
    if (code <= 0x08 || code === 0x0b || code === 0x0c || (code >= 0x0e && code <= 0x1f) || code >= 0x80) other += 1;
    else if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) latin += 1;
  }
  return other < latin ? 'quoted-printable' : 'base64';
}

function encodeContent(content: string, encoding: Encoding): string | Buffer {
  const bytes = Buffer.from(content, 'utf8');
  if (encoding === 'base64') return base64.wrap(base64.encode(bytes), 76);
  if (encoding === 'quoted-printable') return quotedPrintable(bytes);
  return bytes;
}

function textPart(contentType: string, content: string, spell: (key: string) => string): Array<string | Buffer> {
  const encoding = transferEncoding(content);
  const head = [headerLine('Content-Type', contentType, spell), headerLine('Content-Transfer-Encoding', encoding, spell)];
  return [`${head.join('\r\n')}\r\n\r\n`, encodeContent(content, encoding)];
}

/** The root's fields in the order MailComposer sets them, each only when given. */
const addressing = [
  ['From', 'from'], ['To', 'to'], ['Reply-To', 'replyTo'], ['In-Reply-To', 'inReplyTo'],
  ['References', 'references'], ['Subject', 'subject'], ['Message-ID', 'messageId'], ['Date', 'date'],
] as const;

/** The mail's bytes; the caller checks isAlternativeOnly first. */
export function writeAlternativeSync({ options, headers }: AlternativeMail): Buffer {
  if (!isAlternativeOnly(options)) throw new Error('writeAlternativeSync writes a text and an HTML part with nothing attached');
  // nodemailer also hands the spelling the encoded value; the composer's spelling reads the key alone.
  const { normalizeHeaderKey } = options;
  const spell = (key: string): string => (normalizeHeaderKey ? normalizeHeaderKey(key, '') : key);
  const root: string[] = [];
  for (const [key, field] of addressing) {
    const value = options[field];
    if (!value) continue;
    const line = headerLine(key, value, spell);
    if (line !== undefined) root.push(line);
  }
  for (const { key, value } of headers) {
    const line = headerLine(key, value, spell);
    if (line !== undefined) root.push(line);
  }
  // The root is the tree's first node: its boundary is the shared base and Part_1.
  const boundary = `${strip(`${strip(String(options.boundaryPrefix))}-${strip(String(options.baseBoundary))}`)}-Part_1`;
  root.push(headerLine('MIME-Version', '1.0', spell) ?? '');
  root.push(headerLine('Content-Type', mimeFuncs.buildHeaderValue({ value: 'multipart/alternative', params: { boundary } }), spell) ?? '');
  const pieces: Array<string | Buffer> = [
    `${root.join('\r\n')}\r\n\r\n`,
    `--${boundary}\r\n`,
    ...textPart('text/plain; charset=utf-8', String(options.text), spell),
    `\r\n--${boundary}\r\n`,
    ...textPart('text/html; charset=utf-8', String(options.html), spell),
    `\r\n--${boundary}--\r\n`,
  ];
  const raw = Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece)));
  return toWindowsLineEnds(withLastNewline(raw));
}

/** nodemailer's cleaning of a boundary's parts. */
// eslint-disable-next-line no-control-regex -- control characters are what nodemailer takes out of a boundary
const strip = (value: string): string => value.replace(/[\x00-\x1f\x7f]+/g, '');
