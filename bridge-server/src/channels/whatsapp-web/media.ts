import { createHash } from 'node:crypto';
import { BadInputError, UpstreamError } from '../../core/errors.js';
import type { MediaFetcher } from '../../core/ports.js';
import { classifyFailure, requireReady, service, withDeadline, type SessionView } from './upstream.js';

export interface WhatsAppWebMediaFetcherOptions {
  session: SessionView;
  /** Largest media accepted, in bytes; default 100 MiB. */
  maxBytes?: number;
  /** How long one download may take; default 120 s (older library versions could hang, PR #4012). */
  timeoutMs?: number;
}

/**
 * Downloads the media of a message through the session's WhatsApp Web page: the media id is the
 * message's `_serialized` id (normalize.ts), the message is looked up with getMessageById and
 * its media decrypted with downloadMedia(). Called by the media.fetch job, never during ingest.
 */
export class WhatsAppWebMediaFetcher implements MediaFetcher {
  private readonly session: SessionView;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;

  constructor(options: WhatsAppWebMediaFetcherOptions) {
    this.session = options.session;
    this.maxBytes = options.maxBytes ?? 100 * 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  /**
   * Throws UpstreamError('whatsapp-web'): transient when the session is not connected, the page
   * failed or the download hung; permanent when WhatsApp Web no longer has the message or its
   * media (expired, REUPLOADING, deleted: downloadMedia() resolves undefined, whatsapp-web.js known issues),
   * the session is linked to another number, or the media is over the size cap. Throws
   * BadInputError `media_hash_mismatch` when the bytes do not match the SHA-256 WhatsApp announced.
   */
  async fetch(ref: { waMediaId: string; businessId: string; announcedSha256: string | null }): Promise<{ bytes: Buffer; mimeType: string }> {
    const what = `download media ${ref.waMediaId}`;
    const client = requireReady(this.session, ref.businessId, what);
    let media;
    try {
      media = await withDeadline(
        (async () => {
          const message = await client.getMessageById(ref.waMediaId);
          return message ? await message.downloadMedia() : undefined;
        })(),
        this.timeoutMs,
        what,
      );
    } catch (error) {
      throw classifyFailure(error, what);
    }
    if (!media) {
      throw new UpstreamError(service, `Could not ${what}: media unavailable (WhatsApp Web no longer has it; ask the sender to send it again).`, 'permanent');
    }
    // Base64 is 4 characters per 3 bytes: refuse before decoding something far too large.
    if ((media.data.length * 3) / 4 > this.maxBytes + 3) throw this.tooLarge(ref.waMediaId);
    const bytes = Buffer.from(media.data, 'base64');
    if (bytes.length > this.maxBytes) throw this.tooLarge(ref.waMediaId);
    verifySha256(bytes, ref.announcedSha256, ref.waMediaId);
    return { bytes, mimeType: media.mimetype || 'application/octet-stream' };
  }

  private tooLarge(mediaId: string): UpstreamError {
    return new UpstreamError(service, `Media ${mediaId} is larger than the ${this.maxBytes}-byte limit; raise the media size limit to accept it.`, 'permanent');
  }
}

/**
 * WhatsApp Web announces `filehash`, the base64 SHA-256 of the decrypted file (it checks its own
 * downloads against it); a hex digest is accepted too. Anything else cannot be checked and is
 * ignored rather than failing the download.
 */
function verifySha256(bytes: Buffer, announced: string | null, mediaId: string): void {
  const text = announced?.trim();
  if (!text) return;
  const expected = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (!expected) return;
  if (!expected.equals(createHash('sha256').update(bytes).digest())) {
    throw new BadInputError('media_hash_mismatch', `Media ${mediaId}: the downloaded bytes do not match the SHA-256 WhatsApp announced; they were discarded.`);
  }
}
