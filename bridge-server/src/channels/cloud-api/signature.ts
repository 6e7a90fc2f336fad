import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'mismatch';

/**
 * Checks `X-Hub-Signature-256: sha256=<hex>` against HMAC-SHA256(App Secret, body) over the exact
 * bytes received (Meta webhooks reference). Meta signs the escaped-unicode JSON it sent, so this must run
 * on the raw body before any parsing; the digests are compared in constant time.
 */
export function checkSignature(appSecret: string, body: Uint8Array, header: string | undefined): SignatureCheck {
  if (header === undefined || header.trim() === '') return 'missing';
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match?.[1]) return 'malformed';
  const expected = createHmac('sha256', appSecret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1], 'hex')) ? 'valid' : 'mismatch';
}

/** Constant-time equality for secrets of any length: compares fixed-size digests of both. */
export function equalSecrets(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
