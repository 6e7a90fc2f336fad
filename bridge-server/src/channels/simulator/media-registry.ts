import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export interface StoredMedia {
  id: string;
  phoneNumberId: string;
  mimeType: string;
  bytes: Buffer;
  /** Hex, as the media lookup answers it. */
  sha256Hex: string;
  /** Base64, as webhooks announce it (Meta image reference: "SfInY0gG...GUI="). */
  sha256Base64: string;
}

/** Meta's download URLs expire after five minutes (Meta Media reference). */
export const defaultMediaUrlTtlMs = 5 * 60 * 1000;

/**
 * The simulator's media: ids like Meta's (numeric strings), and download URLs that mimic
 * lookaside.fbsbx.com's `?mid=&ext=&hash=` form, signed with a key of this process so they expire
 * and cannot be guessed.
 */
export class MediaRegistry {
  private readonly items = new Map<string, StoredMedia>();
  private readonly urlKey = randomBytes(32);

  constructor(private readonly urlTtlMs: number = defaultMediaUrlTtlMs) {}

  add(bytes: Buffer, mimeType: string, phoneNumberId: string): StoredMedia {
    const digest = createHash('sha256').update(bytes).digest();
    const id = `${randomInt(1, 10)}${Array.from({ length: 15 }, () => randomInt(0, 10)).join('')}`;
    const media: StoredMedia = { id, phoneNumberId, mimeType, bytes: Buffer.from(bytes), sha256Hex: digest.toString('hex'), sha256Base64: digest.toString('base64') };
    this.items.set(id, media);
    return media;
  }

  get(id: string): StoredMedia | undefined {
    return this.items.get(id);
  }

  /** A download URL for `id` under `baseUrl`, valid for the configured time from `now`. */
  downloadUrl(baseUrl: string, id: string, now: number): string {
    const expires = String(now + this.urlTtlMs);
    const url = new URL(`${baseUrl}/whatsapp_business/attachments/`);
    url.searchParams.set('mid', id);
    url.searchParams.set('ext', expires);
    url.searchParams.set('hash', this.mac(id, expires));
    return url.toString();
  }

  /** The media a download URL names, or undefined when the URL is forged, unknown or expired. */
  resolveDownload(query: { mid?: string; ext?: string; hash?: string }, now: number): StoredMedia | undefined {
    const { mid, ext, hash } = query;
    if (!mid || !ext || !hash || !/^\d+$/.test(ext)) return undefined;
    const expected = Buffer.from(this.mac(mid, ext));
    const given = Buffer.from(hash);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (Number(ext) < now) return undefined;
    return this.items.get(mid);
  }

  private mac(id: string, expires: string): string {
    return createHmac('sha256', this.urlKey).update(`${id}:${expires}`).digest('base64url');
  }
}
