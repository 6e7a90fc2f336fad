import { NotFoundError } from '../core/errors.js';
import type { BlobStore, MediaFetcher, Outbox, Store } from '../core/ports.js';
import type { Job } from '../core/records.js';

export interface FetchMediaDeps {
  store: Store;
  outbox: Outbox;
  blobs: BlobStore;
  fetcher: MediaFetcher;
}

/**
 * Runs one media.fetch job: downloads the bytes (the fetcher checks them against the announced
 * SHA-256), stores them by hash, then in one transaction records the blob on the attachment,
 * enqueues the event's mail.relay (same sort key, so it goes before later events of the chat)
 * and completes this job.
 */
export async function fetchMedia(deps: FetchMediaDeps, job: Job<'media.fetch'>): Promise<{ sha256: string; size: number }> {
  const { conversationId, eventId, attachmentId } = job.payload;
  const { attachment, businessId } = await deps.store.transaction(async (tx) => {
    const attachment = await deps.store.getAttachment(tx, attachmentId);
    const conversation = await deps.store.getConversation(tx, conversationId);
    if (!attachment || !conversation) throw new NotFoundError(`attachment ${attachmentId} of conversation ${conversationId} is not in the store`);
    return { attachment, businessId: conversation.businessId };
  });

  const { bytes } = await deps.fetcher.fetch({ waMediaId: attachment.waMediaId, businessId, announcedSha256: attachment.announcedSha256 });
  const sha256 = await deps.blobs.put(bytes);
  await deps.store.transaction(async (tx) => {
    await deps.store.setAttachmentBlob(tx, attachmentId, sha256, bytes.length);
    await deps.store.enqueue(tx, { kind: 'mail.relay', payload: { conversationId, eventId }, conversationId, sortKey: job.sortKey });
    await deps.outbox.complete(tx, job.id);
  });
  return { sha256, size: bytes.length };
}
