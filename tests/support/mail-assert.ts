import { createHash } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface ReadMail {
  uid: number;
  raw: Buffer;
  parsed: ParsedMail;
  header(name: string): string | undefined;
}

export async function parseAll(messages: Array<{ uid: number; source: Buffer }>): Promise<ReadMail[]> {
  return Promise.all(
    messages.map(async ({ uid, source }) => {
      const parsed = await simpleParser(source);
      return {
        uid,
        raw: source,
        parsed,
        header: (name: string) => {
          const value = parsed.headers.get(name.toLowerCase());
          if (value === undefined) return undefined;
          return typeof value === 'string' ? value : JSON.stringify(value);
        },
      };
    }),
  );
}

/** Raw header value as written (unfolded), for headers mailparser turns into objects. */
export function rawHeader(raw: Buffer, name: string): string | undefined {
  const head = raw.toString('latin1').split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const prefix = `${name.toLowerCase()}:`;
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(prefix));
  return line?.slice(prefix.length).trim();
}

/**
 * The message as the bridge wrote it: the raw bytes without the trace headers the MTA and the
 * mailbox prepend (Return-Path, Delivered-To, Received, X-Original-To).
 */
export function asRelayed(raw: Buffer): string {
  const text = raw.toString('latin1');
  const lines = text.split('\r\n');
  let i = 0;
  while (i < lines.length && /^(Return-Path|Delivered-To|Received|X-Original-To):/i.test(lines[i] ?? '')) {
    i += 1;
    while (i < lines.length && /^[ \t]/.test(lines[i] ?? '')) i += 1;
  }
  return lines.slice(i).join('\r\n');
}

export const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');
