import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BadInputError, UpstreamError, type RetryClass } from '../../core/errors.js';
import type { MediaFetcher } from '../../core/ports.js';

export interface CloudMediaFetcherOptions {
  /** Graph API origin, e.g. https://graph.facebook.com, or the simulator's URL. */
  baseUrl: string;
  apiVersion?: string;
  /** System-user token with whatsapp_business_messaging; sent on both steps. */
  accessToken: string;
  /** Largest media accepted, in bytes; default 100 MiB, the Cloud API's own ceiling. */
  maxBytes?: number;
  /**
   * Longest wait, in milliseconds, for the lookup's answer, for the download's headers and between
   * two pieces of the download's body; default 60 s. A download that stalls fails after this much
   * silence, while a slow one that keeps sending goes on (up to `deadlineMs`).
   */
  timeoutMs?: number;
  /** Longest time for a whole download, in milliseconds; default 15 minutes (100 MiB at about 1 Mbit/s). */
  deadlineMs?: number;
}

export const defaultMediaMaxBytes = 100 * 1024 * 1024;
export const defaultMediaTimeoutMs = 60_000;
const defaultDeadlineMs = 15 * 60_000;
const service = 'whatsapp-media';

/** GET /{version}/{media-id} answer (Meta Media reference); file_size is documented as a string. */
const mediaInfoSchema = z.looseObject({
  url: z.string().min(1),
  mime_type: z.string().max(255).optional(),
  sha256: z.string().max(128).optional(),
  file_size: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).optional(),
});

/**
 * Downloads Cloud API media in the two documented steps (Meta Media reference): look the media id up
 * for a short-lived URL, then GET that URL with the same bearer token, streaming under a size cap
 * and checking the bytes against every SHA-256 announced (webhook and lookup; hex or base64).
 * Called by the media.fetch job, never during a webhook request.
 */
export class CloudMediaFetcher implements MediaFetcher {
  private readonly base: string;
  private readonly apiVersion: string;
  private readonly accessToken: string;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;

  constructor(options: CloudMediaFetcherOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.apiVersion = options.apiVersion ?? 'v23.0';
    this.accessToken = options.accessToken;
    this.maxBytes = options.maxBytes ?? defaultMediaMaxBytes;
    this.timeoutMs = options.timeoutMs ?? defaultMediaTimeoutMs;
    this.deadlineMs = Math.max(options.deadlineMs ?? defaultDeadlineMs, this.timeoutMs);
  }

  /**
   * Throws UpstreamError('whatsapp-media'): transient for network trouble, timeouts, 429, 5xx and a
   * download URL refused as expired; permanent for an unknown or foreign media id, a rejected
   * token, or media over the size cap. Throws BadInputError `media_hash_mismatch` when the bytes do
   * not match an announced SHA-256.
   */
  async fetch(ref: { waMediaId: string; businessId: string; announcedSha256: string | null }): Promise<{ bytes: Buffer; mimeType: string }> {
    const info = await this.lookUp(ref.waMediaId, ref.businessId);
    const announcedSize = info.file_size === undefined ? undefined : Number(info.file_size);
    if (announcedSize !== undefined && announcedSize > this.maxBytes) throw this.tooLarge(ref.waMediaId);
    const { bytes, contentType } = await this.download(info.url, ref.waMediaId);
    verifySha256(bytes, [ref.announcedSha256, info.sha256], ref.waMediaId);
    return { bytes, mimeType: info.mime_type ?? contentType ?? 'application/octet-stream' };
  }

  private async lookUp(mediaId: string, businessId: string): Promise<z.infer<typeof mediaInfoSchema>> {
    const url = new URL(`${this.base}/${this.apiVersion}/${encodeURIComponent(mediaId)}`);
    // Optional, but makes Meta refuse media that belongs to another business number.
    url.searchParams.set('phone_number_id', businessId);
    const response = await this.request(url, AbortSignal.timeout(this.timeoutMs), `look up media ${mediaId}`);
    if (!response.ok) {
      const detail = await graphErrorSummary(response);
      // 400/404: unknown, expired (7 days) or foreign id; 401/403: the token needs a person.
      throw new UpstreamError(service, `Looking up media ${mediaId} failed with HTTP ${response.status}${detail}.`, lookupRetry(response.status), response.status);
    }
    const parsed = mediaInfoSchema.safeParse(await response.json().catch(() => undefined));
    // A 200 without the documented shape is a glitch in between (proxy, captive page): try again.
    if (!parsed.success) throw new UpstreamError(service, `Looking up media ${mediaId} returned a body without a download url.`, 'transient', response.status);
    return parsed.data;
  }

  private async download(location: string, mediaId: string): Promise<{ bytes: Buffer; contentType: string | undefined }> {
    const url = URL.canParse(location) ? new URL(location) : undefined;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new UpstreamError(service, `The download URL given for media ${mediaId} is not an http(s) URL.`, 'permanent');
    }
    const sizeCap = new AbortController();
    const silence = new SilenceTimer(this.timeoutMs);
    const deadline = AbortSignal.timeout(this.deadlineMs);
    const signal = AbortSignal.any([silence.signal, deadline, sizeCap.signal]);
    const what = `download media ${mediaId}`;
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      const response = await this.request(url, signal, what);
      if (!response.ok) {
        await response.body?.cancel();
        throw new UpstreamError(service, `Downloading media ${mediaId} failed with HTTP ${response.status}.`, downloadRetry(response.status), response.status);
      }
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      if (length > this.maxBytes) {
        sizeCap.abort();
        throw this.tooLarge(mediaId);
      }
      const reader = response.body?.getReader();
      try {
        for (;;) {
          silence.restart();
          const next = await reader?.read();
          if (!next || next.done) break;
          total += next.value.byteLength;
          if (total > this.maxBytes) {
            sizeCap.abort();
            throw this.tooLarge(mediaId);
          }
          chunks.push(next.value);
        }
      } catch (error) {
        if (error instanceof UpstreamError) throw error;
        const received = `${total}${Number.isFinite(length) ? ` of ${length}` : ''} bytes, discarded`;
        if (silence.signal.aborted) throw new UpstreamError(service, `Could not ${what}: no data for ${this.timeoutMs} ms (${received}).`, 'transient');
        if (deadline.aborted) throw new UpstreamError(service, `Could not ${what}: not finished within ${this.deadlineMs} ms (${received}).`, 'transient');
        throw networkFailure(error, what, this.timeoutMs);
      }
      const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() || undefined;
      return { bytes: Buffer.concat(chunks, total), contentType };
    } finally {
      silence.stop();
    }
  }

  private async request(url: URL, signal: AbortSignal, what: string): Promise<Response> {
    try {
      // The download URL needs the same bearer header as the lookup; anonymous GETs fail (Meta Media reference).
      return await globalThis.fetch(url, { headers: { Authorization: `Bearer ${this.accessToken}` }, signal, redirect: 'follow' });
    } catch (error) {
      throw networkFailure(error, what, this.timeoutMs);
    }
  }

  private tooLarge(mediaId: string): UpstreamError {
    return new UpstreamError(service, `Media ${mediaId} is larger than the ${this.maxBytes}-byte limit; raise the media size limit to accept it.`, 'permanent');
  }
}

function lookupRetry(status: number): RetryClass {
  return status === 408 || status === 429 || status >= 500 ? 'transient' : 'permanent';
}

/**
 * Download URLs live five minutes; Meta answers a stale one with 404 and advises looking the id up
 * again (Meta Media reference, "Download media"), and some edges answer 401/410 instead. A retry
 * starts with a fresh lookup, so these are transient; a gone media id then fails there, permanently.
 */
function downloadRetry(status: number): RetryClass {
  return [401, 404, 408, 410, 429].includes(status) || status >= 500 ? 'transient' : 'permanent';
}

/**
 * Aborts its signal (as a TimeoutError, like AbortSignal.timeout) once `ms` pass without a
 * restart: the download's signal for "the server went quiet", as against "the server is slow".
 */
class SilenceTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {
    this.restart();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  restart(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new DOMException(`no data for ${this.ms} ms`, 'TimeoutError')), this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

function networkFailure(error: unknown, what: string, timeoutMs: number): UpstreamError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError') return new UpstreamError(service, `Could not ${what}: no answer within ${timeoutMs} ms.`, 'transient');
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return new UpstreamError(service, `Could not ${what}: network error${code}.`, 'transient');
}

/** Graph errors carry {error:{code,type}}; only those are quoted, never Meta's free text. */
async function graphErrorSummary(response: Response): Promise<string> {
  const body: unknown = await response.json().catch(() => undefined);
  const error = z.object({ error: z.object({ code: z.number(), type: z.string().max(64).optional() }) }).safeParse(body);
  return error.success ? ` (Graph error ${error.data.error.code}${error.data.error.type ? ` ${error.data.error.type}` : ''})` : '';
}

/**
 * Accepts hex (the lookup answer) and base64 (the webhook, e.g. "SfInY0gG...GUI=" in Meta's image
 * reference) encodings of a SHA-256 digest; undefined for anything else.
 */
export function decodeSha256(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-f]{64}$/i.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) return Buffer.from(value, 'base64');
  return undefined;
}

/** Throws BadInputError `media_hash_mismatch` unless every announced hash matches the bytes. */
export function verifySha256(bytes: Uint8Array, announced: ReadonlyArray<string | null | undefined>, mediaId: string): void {
  const actual = createHash('sha256').update(bytes).digest();
  for (const text of announced) {
    if (text === null || text === undefined || text === '') continue;
    const expected = decodeSha256(text);
    if (!expected) throw new BadInputError('media_hash_mismatch', `Media ${mediaId}: the announced SHA-256 is neither hex nor base64 of a digest, so the bytes cannot be checked.`);
    if (!expected.equals(actual)) {
      throw new BadInputError('media_hash_mismatch', `Media ${mediaId}: the downloaded bytes do not match the SHA-256 WhatsApp announced; they were discarded.`);
    }
  }
}
