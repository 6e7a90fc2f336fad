import type { ChannelKind } from '../core/events.js';
import { NotFoundError, UpstreamError } from '../core/errors.js';
import type { BlobStore, MediaFetcher, Outbox, Store } from '../core/ports.js';
import type { Job } from '../core/records.js';

export interface FetchMediaDeps {
  store: Store;
  outbox: Outbox;
  blobs: BlobStore;
  /** The media fetcher of each configured channel. */
  fetchers: Partial<Record<ChannelKind, MediaFetcher>>;
}

/**
 * Runs one media.fetch job: downloads the bytes (the fetcher checks them against the announced
 * SHA-256), stores them by hash, then in one transaction records the blob on the attachment,
 * enqueues the event's mail.relay (same sort key, so it goes before later events of the chat)
 * and completes this job.
 */
export async function fetchMedia(deps: FetchMediaDeps, job: Job<'media.fetch'>): Promise<{ sha256: string; size: number }> {
  const { conversationId, eventId, attachmentId } = job.payload;
  const { attachment, businessId, channel } = await deps.store.read(async (tx) => {
    const attachment = await deps.store.getAttachment(tx, attachmentId);
    const conversation = await deps.store.getConversation(tx, conversationId);
    if (!attachment || !conversation) throw new NotFoundError(`attachment ${attachmentId} of conversation ${conversationId} is not in the store`);
    return { attachment, businessId: conversation.businessId, channel: conversation.channel };
  });
  const fetcher = deps.fetchers[channel];
  if (!fetcher) throw new UpstreamError(channel, `the ${channel} channel is not configured on this bridge, so its media cannot be downloaded`, 'permanent');

  const { bytes } = await fetcher.fetch({ waMediaId: attachment.waMediaId, businessId, announcedSha256: attachment.announcedSha256 });
  const sha256 = await deps.blobs.put(bytes).catch((error: unknown) => {
    throw storeFull(error, attachment.waMediaId, bytes.length) ?? error;
  });
  await deps.store.transaction(async (tx) => {
    await deps.store.setAttachmentBlob(tx, attachmentId, sha256, bytes.length);
    await deps.store.enqueue(tx, { kind: 'mail.relay', payload: { conversationId, eventId }, conversationId, sortKey: job.sortKey });
    await deps.outbox.complete(tx, job.id);
  });
  return { sha256, size: bytes.length };
}

/**
 * A blob store out of space (ENOSPC: the disk; EDQUOT: the quota) as a transient failure that
 * says so: the blob store has removed what it began to write, and the job downloads again after
 * its backoff, so freeing space is all it takes. Undefined for any other error.
 */
function storeFull(error: unknown, waMediaId: string, size: number): UpstreamError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  const what = code === 'ENOSPC' ? 'the disk of the blob store is full' : 'the blob store is over its disk quota';
  return new UpstreamError('blob-store', `Media ${waMediaId} (${size} bytes) could not be stored: ${what} (${code}). Nothing was kept; free space and the download is tried again.`, 'transient', code);
}
