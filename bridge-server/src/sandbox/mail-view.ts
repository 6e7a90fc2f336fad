import { simpleParser, type AddressObject, type Attachment, type HeaderValue, type ParsedMail } from 'mailparser';
import type { CaughtMail } from './catcher.js';
import { decodeEncodedWords } from './encoded-words.js';

/**
 * What the sandbox page shows of one caught mail, parsed from its raw MIME with mailparser: the
 * addressing and threading headers, the bridge's machine-readable headers, both bodies and the
 * attachments' metadata. Attachment bytes are not kept here; they are parsed again on download.
 */
export interface MailView {
  id: number;
  receivedAt: number;
  size: number;
  sha256: string;
  envelope: { from: string; to: string[] };
  /** Angle brackets included, as in the header. */
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string | null;
  from: string | null;
  to: string | null;
  /** ISO 8601, from the Date header. */
  date: string | null;
  threadIndex: string | null;
  threadTopic: string | null;
  /** The `X-WhatsApp-Chat-Id` header: the page groups one thread per chat by it. */
  chatId: string | null;
  /** X-WhatsApp-*, X-Matter-Ref, X-Archive-Hash and Auto-Submitted, in header order. */
  headers: Array<{ name: string; value: string }>;
  text: string | null;
  /** The HTML body as a contained document (see containHtml); render it only in `<iframe sandbox="">`. */
  html: string | null;
  attachments: Array<{ index: number; fileName: string; contentType: string; size: number; sha256: string }>;
  /** Set when mailparser could not read the message; the raw bytes are still available. */
  parseError?: string;
}

const machineHeader = /^(x-whatsapp-[a-z0-9-]+|x-matter-ref|x-archive-hash|auto-submitted)$/;

// The page already runs under a CSP that the srcdoc frame inherits; this copy travels with the
// document so that it holds wherever the HTML ends up. Inline styles and data: images (mailparser
// turns cid: images into data: URLs) are all a mail body may use: no scripts, no remote fetches.
const bodyPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; form-action 'none'";
const bodyStyle = 'body{margin:12px;font:14px/1.5 "Segoe UI",system-ui,-apple-system,sans-serif;color:#1f2328;overflow-wrap:anywhere}';

/**
 * Wraps a mail's HTML body into a document for `<iframe sandbox="" srcdoc>`. The containment is
 * the browser's, not a filter's: the empty sandbox gives the frame an opaque origin and blocks
 * scripts, forms, popups, plugins and automatic navigation (meta refresh), and the policy above
 * blocks every network fetch. A mail's own tags that follow merge into this head and body.
 */
export function containHtml(html: string): string {
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${bodyPolicy}"><meta name="referrer" content="no-referrer"><style>${bodyStyle}</style>${html}`;
}

export async function parseMail(mail: CaughtMail): Promise<ParsedMail> {
  return simpleParser(mail.raw, { checksumAlgo: 'sha256', skipTextLinks: true });
}

export async function toMailView(mail: CaughtMail): Promise<MailView> {
  const base = { id: mail.id, receivedAt: mail.receivedAt, size: mail.raw.length, sha256: mail.sha256, envelope: mail.envelope };
  let parsed: ParsedMail;
  try {
    parsed = await parseMail(mail);
  } catch (error) {
    return { ...base, ...emptyFields(), parseError: error instanceof Error ? error.message : String(error) };
  }
  const header = (name: string) => headerText(parsed.headers.get(name));
  return {
    ...base,
    messageId: parsed.messageId ?? null,
    inReplyTo: parsed.inReplyTo ?? null,
    references: parsed.references === undefined ? [] : Array.isArray(parsed.references) ? parsed.references : [parsed.references],
    subject: parsed.subject ?? null,
    from: addressText(parsed.from),
    to: addressText(parsed.to),
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.toISOString() : null,
    threadIndex: header('thread-index'),
    threadTopic: header('thread-topic'),
    chatId: header('x-whatsapp-chat-id'),
    headers: machineHeaders(parsed),
    text: parsed.text ?? null,
    html: typeof parsed.html === 'string' ? containHtml(parsed.html) : null,
    attachments: parsed.attachments.map((attachment, index) => ({
      index,
      fileName: attachment.filename ?? `attachment-${index + 1}`,
      contentType: attachment.contentType,
      size: attachment.size,
      sha256: attachment.checksum,
    })),
  };
}

/** The n-th attachment (0-based, in the order toMailView lists them), or undefined. */
export async function attachmentOf(mail: CaughtMail, index: number): Promise<Attachment | undefined> {
  const parsed = await parseMail(mail);
  return parsed.attachments[index];
}

function emptyFields(): Omit<MailView, 'id' | 'receivedAt' | 'size' | 'sha256' | 'envelope'> {
  return {
    messageId: null,
    inReplyTo: null,
    references: [],
    subject: null,
    from: null,
    to: null,
    date: null,
    threadIndex: null,
    threadTopic: null,
    chatId: null,
    headers: [],
    text: null,
    html: null,
    attachments: [],
  };
}

/** The machine-readable headers, decoded, named as the message spells them. */
function machineHeaders(parsed: ParsedMail): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  const seen = new Set<string>();
  for (const line of parsed.headerLines) {
    if (!machineHeader.test(line.key) || seen.has(line.key)) continue;
    seen.add(line.key);
    const name = line.line.slice(0, line.line.indexOf(':')).trim() || line.key;
    const value = parsed.headers.get(line.key);
    for (const one of Array.isArray(value) ? value : [value]) {
      const text = headerText(one as HeaderValue | undefined);
      if (text !== null) out.push({ name, value: text });
    }
  }
  return out;
}

function headerText(value: HeaderValue | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string') return decodeEncodedWords(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((one) => headerText(one)).join(', ');
  if ('text' in value && typeof value.text === 'string') return value.text;
  if ('value' in value && typeof value.value === 'string') return value.value;
  return null;
}

function addressText(value: AddressObject | AddressObject[] | undefined): string | null {
  if (value === undefined) return null;
  const mailboxes = (Array.isArray(value) ? value : [value]).flatMap((one) => one.value);
  return mailboxes.map((one) => (one.name && one.address ? `${one.name} <${one.address}>` : (one.address ?? one.name))).join(', ');
}
