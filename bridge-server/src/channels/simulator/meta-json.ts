import { createHmac } from 'node:crypto';

/**
 * Serializes a webhook the way Meta's senders do: non-ASCII as \uXXXX escapes (astral characters
 * as surrogate pairs) and "/" as "\/". Meta signs that escaped JSON, which is why
 * a receiver that re-serializes the parsed body gets a different digest; the simulator keeps that
 * property so tests can prove the bridge signs nothing but the bytes it received.
 */
export function toMetaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}

/** `X-Hub-Signature-256` value: HMAC-SHA256 of the exact bytes, keyed with the App Secret. */
export function signatureHeader(appSecret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}
