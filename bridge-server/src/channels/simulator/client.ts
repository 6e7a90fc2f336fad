import { simulatorLabel } from './label.js';
import { signatureHeader, toMetaJson } from './meta-json.js';

/**
 * The simulator's client side: posting webhooks to a bridge as Meta does, and handing media to a
 * running simulator through its Cloud API upload endpoint, so that a bridge configured with that
 * simulator downloads it in the documented two steps.
 */

export type WebhookSignature = 'valid' | 'bad' | 'none';

/**
 * Posts a webhook to `target`. Objects are serialized as Meta does (escaped unicode); strings and
 * buffers go as they are. The signature covers exactly the bytes sent: 'valid' (default), 'bad'
 * (signed with another key) or 'none' (no header).
 */
export async function postSignedWebhook(target: string, appSecret: string, payload: object | string | Buffer, signature: WebhookSignature = 'valid'): Promise<{ status: number; body: string }> {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : toMetaJson(payload), 'utf8');
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'facebookexternalua (wa-bridge simulator)', 'X-Simulator': simulatorLabel };
  if (signature !== 'none') headers['X-Hub-Signature-256'] = signatureHeader(signature === 'valid' ? appSecret : `not-${appSecret}`, body);
  const response = await fetch(target, { method: 'POST', headers, body });
  return { status: response.status, body: await response.text() };
}

export interface MediaUpload {
  /** Base URL of the running simulator, as `wa-bridge simulate` prints it. */
  simulatorUrl: string;
  /** The bearer token that simulator accepts. */
  accessToken: string;
  phoneNumberId: string;
  bytes: Buffer;
  mimeType: string;
  filename: string;
  apiVersion?: string;
  timeoutMs?: number;
}

/**
 * Uploads media as the Cloud API documents it (`POST /{version}/{phone-number-id}/media`,
 * multipart with messaging_product, file and type) and resolves with the media id. Asks first
 * whether `simulatorUrl` is a wa-bridge simulator, so that neither the token nor the file ever
 * goes to Meta or anything else by mistake. Throws an Error saying what went wrong.
 */
export async function uploadMedia(upload: MediaUpload): Promise<{ id: string }> {
  const base = upload.simulatorUrl.replace(/\/+$/, '');
  const timeoutMs = upload.timeoutMs ?? 30_000;
  const root = await reach(`${base}/`, { signal: AbortSignal.timeout(timeoutMs) }, base);
  await root.arrayBuffer();
  if (!root.headers.get('x-simulator')?.startsWith('wa-bridge Cloud API simulator')) {
    throw new Error(`${base} is not a wa-bridge simulator (it does not answer as one); give the url \`wa-bridge simulate\` printed`);
  }
  const form = new FormData();
  form.set('messaging_product', 'whatsapp');
  form.set('type', upload.mimeType);
  form.set('file', new Blob([new Uint8Array(upload.bytes)], { type: upload.mimeType }), upload.filename);
  const url = `${base}/${upload.apiVersion ?? 'v23.0'}/${encodeURIComponent(upload.phoneNumberId)}/media`;
  const response = await reach(url, { method: 'POST', headers: { Authorization: `Bearer ${upload.accessToken}` }, body: form, signal: AbortSignal.timeout(timeoutMs) }, base);
  const text = await response.text();
  const id = response.ok ? idOf(text) : undefined;
  if (id === undefined) {
    const hint = response.status === 401 ? ' (the access token is not the one the simulator accepts)' : '';
    throw new Error(`the simulator at ${base} refused the upload with HTTP ${response.status}${hint}: ${text.slice(0, 300)}`);
  }
  return { id };
}

async function reach(url: string, init: RequestInit, base: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw new Error(`no simulator answers at ${base} (${reason}); is \`wa-bridge simulate\` running there?`, { cause: error });
  }
}

function idOf(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}
