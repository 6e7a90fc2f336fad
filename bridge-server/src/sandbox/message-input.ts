import { z } from 'zod';
import type { FieldIssue } from '../core/errors.js';

/**
 * The body of `POST /sandbox/api/messages`: what the page's "client's phone" sends. Parsed here,
 * at the edge, into what SandboxClient.sendAsClient takes; every issue is reported with its path.
 */

export const maxFileBytes = 16 * 1024 * 1024;
/** WhatsApp's limit for a text message body (Cloud API "text.body": 4096 characters). */
export const maxTextLength = 4096;
/** Base64 of the largest file, plus room for the text (JSON-escaped) and the other fields. */
export const maxMessageBodyBytes = Math.ceil(maxFileBytes / 3) * 4 + 256 * 1024;

export interface SandboxMessage {
  name: string;
  /** E.164: "+" and 8 to 15 digits. */
  phone: string;
  text?: string;
  file?: { fileName: string; mimeType: string; bytes: Buffer };
}

const phoneCharacters = /^\+?[0-9 ().-]+$/;
const base64 = /^[A-Za-z0-9+/]*={0,2}$/;
const mimeType = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

const decodedLength = (data: string): number => (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);

const phoneSchema = z
  .string({ error: "Enter the client's phone number." })
  .trim()
  .refine((value) => phoneCharacters.test(value) && /^\d{8,15}$/.test(value.replace(/\D/g, '')), {
    error: 'Enter the number in international form with the country code, 8 to 15 digits, e.g. +44 7700 900123.',
  })
  .transform((value) => `+${value.replace(/\D/g, '')}`);

const fileSchema = z.object(
  {
    fileName: z.string({ error: 'Give the file a name.' }).trim().min(1, 'Give the file a name.').max(255, 'The file name is longer than 255 characters.'),
    mimeType: z.string({ error: 'Give the media type, e.g. application/pdf.' }).trim().regex(mimeType, 'Expected a media type such as application/pdf.'),
    dataBase64: z
      .string({ error: 'Give the file content as base64.' })
      .refine((data) => data.length % 4 === 0 && base64.test(data), { error: 'The file content is not valid base64.', abort: true })
      .refine((data) => data.length > 0, { error: 'The file is empty; WhatsApp does not send empty files.', abort: true })
      .refine((data) => decodedLength(data) <= maxFileBytes, { error: 'The file is larger than 16 MB, the most the sandbox accepts.' }),
  },
  { error: 'Expected the file as { fileName, mimeType, dataBase64 }.' },
);

const messageSchema = z.object(
  {
    name: z.string({ error: "Enter the client's name." }).trim().min(1, "Enter the client's name.").max(128, 'The name is longer than 128 characters.'),
    phone: phoneSchema,
    text: z.string({ error: 'The message text must be a string.' }).max(maxTextLength, `A WhatsApp message holds at most ${maxTextLength} characters.`).optional(),
    file: fileSchema.optional(),
  },
  { error: 'Expected a JSON object { name, phone, text?, file? }.' },
);

export type ParsedInput = { ok: true; value: SandboxMessage } | { ok: false; errors: FieldIssue[] };

export function parseSandboxMessage(body: unknown): ParsedInput {
  const parsed = messageSchema.safeParse(body);
  const errors: FieldIssue[] = parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  // Checked apart from the schema so that it is reported together with any field's issue.
  if (typeof body === 'object' && body !== null) {
    const { text, file } = body as { text?: unknown; file?: unknown };
    const hasText = typeof text === 'string' && text.trim() !== '';
    if (!hasText && file === undefined && !errors.some((issue) => issue.path === 'text')) errors.push({ path: 'text', message: 'Type a message or attach a file.' });
  }
  if (!parsed.success || errors.length > 0) return { ok: false, errors };

  const { name, phone, text, file } = parsed.data;
  return {
    ok: true,
    value: {
      name,
      phone,
      ...(text !== undefined && text.trim() !== '' ? { text } : {}),
      ...(file ? { file: { fileName: file.fileName, mimeType: file.mimeType.toLowerCase(), bytes: Buffer.from(file.dataBase64, 'base64') } } : {}),
    },
  };
}

/** The body of `POST /sandbox/api/replies`: the solicitor's answer to the newest mail of a thread. */
export interface SolicitorReplyInput {
  /** The caught mail answered (its Reply-To and Message-ID address the reply). */
  mailId: number;
  /** Not blank unless a file is given. */
  text: string;
  file?: { fileName: string; mimeType: string; bytes: Buffer };
}

/** Room for a long quoted-over text and a 16 MB file, as for the client's messages. */
export const maxReplyBodyBytes = maxMessageBodyBytes;

const replySchema = z.object(
  {
    mailId: z.number({ error: 'Give the id of the mail answered, a whole number.' }).int('Give the id of the mail answered, a whole number.').positive('Give the id of the mail answered, a whole number.'),
    text: z.string({ error: 'The reply text must be a string.' }).max(maxTextLength, `A WhatsApp message holds at most ${maxTextLength} characters.`).optional(),
    file: fileSchema.optional(),
  },
  { error: 'Expected a JSON object { mailId, text, file? }.' },
);

export function parseSolicitorReply(body: unknown): { ok: true; value: SolicitorReplyInput } | { ok: false; errors: FieldIssue[] } {
  const parsed = replySchema.safeParse(body);
  const errors: FieldIssue[] = parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  if (parsed.success && (parsed.data.text ?? '').trim() === '' && parsed.data.file === undefined) errors.push({ path: 'text', message: 'Type a reply or attach a file.' });
  if (!parsed.success || errors.length > 0) return { ok: false, errors };
  const { mailId, text, file } = parsed.data;
  return {
    ok: true,
    value: {
      mailId,
      text: text ?? '',
      ...(file ? { file: { fileName: file.fileName, mimeType: file.mimeType.toLowerCase(), bytes: Buffer.from(file.dataBase64, 'base64') } } : {}),
    },
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(body)' : out;
}
