import { canonicalRecord, chainLink } from '../core/chain.js';
import type { InboundEvent, NormalizedBatch, StatusEvent } from '../core/events.js';
import { makeChatKey, makeChatToken } from '../core/ids.js';
import type { Clock, Store, Tx } from '../core/ports.js';
import type { ConversationRecord, EventRecord } from '../core/records.js';
import { makeSubject } from '../core/threading.js';

export interface IngestDeps {
  store: Store;
  clock: Clock;
  tenant: string;
}

export interface IngestResult {
  stored: EventRecord[];
  duplicates: number;
  statuses: number;
  /** Conversations created by this batch. */
  opened: ConversationRecord[];
}

/**
 * Stores one normalized batch in ONE transaction: per new event its conversation (created on first
 * contact, with the cover mail's job), the event with its chain link, its media reference, and the
 * job that carries it on (media.fetch for media, else mail.relay). A redelivered event is skipped
 * by its unique key. Resolves only after the commit: channels acknowledge WhatsApp after that.
 */
export async function ingestBatch(deps: IngestDeps, batch: NormalizedBatch): Promise<IngestResult> {
  return deps.store.transaction((tx) => ingestInTransaction(deps, tx, batch));
}

/** The body of ingestBatch inside a transaction the caller owns (a sent reply records its event this way). */
export async function ingestInTransaction(deps: IngestDeps, tx: Tx, batch: NormalizedBatch): Promise<IngestResult> {
  const result: IngestResult = { stored: [], duplicates: 0, statuses: 0, opened: [] };
  for (const event of batch.events) {
    const outcome = await ingestEvent(deps, tx, event);
    if (outcome === 'duplicate') result.duplicates += 1;
    else {
      result.stored.push(outcome.event);
      if (outcome.opened) result.opened.push(outcome.conversation);
    }
  }
  for (const status of batch.statuses) {
    if (!(await deps.store.insertStatus(tx, status, deps.tenant))) continue;
    result.statuses += 1;
    await applyStatus(deps, tx, status);
  }
  return result;
}

/**
 * Moves the status of the reply part it concerns forward; the part is found by its WhatsApp id or
 * by the callback data its send carried. A failure WhatsApp reports after accepting the send marks
 * the reply failed and queues the notice that tells the solicitor.
 */
export async function applyStatus(deps: IngestDeps, tx: Tx, status: StatusEvent): Promise<void> {
  const target = { waMessageId: status.waMessageId, channel: status.channel, callbackData: status.callbackData, recipientId: status.recipientId };
  const applied = await deps.store.applyDeliveryStatus(tx, target, status.status, status.timestamp);
  if (!applied?.changed || status.status !== 'failed') return;
  const error = status.errors[0];
  const windowClosed = error?.code === 131047;
  await deps.store.setOutboundState(tx, applied.commandId, 'failed', {
    code: windowClosed ? 'window_closed' : 'delivery_failed',
    message: windowClosed
      ? 'WhatsApp refused the message: more than 24 hours have passed since the client last wrote, so only an approved template can be sent.'
      : `WhatsApp could not deliver the message${error ? ` (error ${error.code}${error.title ? `: ${error.title}` : ''})` : ''}.`,
  });
  await deps.store.enqueue(tx, { kind: 'mail.notice', payload: { conversationId: applied.conversationId, commandId: applied.commandId }, conversationId: applied.conversationId, sortKey: 0 });
}

async function ingestEvent(
  deps: IngestDeps,
  tx: Tx,
  event: InboundEvent,
): Promise<'duplicate' | { event: EventRecord; conversation: ConversationRecord; opened: boolean }> {
  const { store, tenant } = deps;
  const key = { tenant, channel: event.channel, waMessageId: event.waMessageId, kind: event.kind, versionKey: event.versionKey };
  const { client, business } = event;
  const lookup = {
    tenant,
    channel: event.channel,
    businessId: business.id,
    ...(client.waId !== undefined ? { waId: client.waId } : {}),
    ...(client.userId !== undefined ? { userId: client.userId } : {}),
  };
  const found = await store.findConversationUnlessStored(tx, key, lookup);
  if (found.stored) return 'duplicate';

  const { conversation, opened } = await resolveConversation(deps, tx, event, found.conversation);
  const { stored } = await appendEvent(deps, tx, conversation, event, { relay: true });
  return { event: stored, conversation, opened };
}

/**
 * Appends one event to a conversation the caller has resolved: its chain link over the current
 * head, the event row, the conversation's new head, its media reference, and (with `relay`) the
 * job that carries it on. Every live path into the archive goes through here (chat-export imports
 * store whole groups at once, chained the same way by core/chain.ts), so every stored event has
 * its link. Returns the stored event and the conversation as it now stands. With `advance`
 * false the caller appending a run of events stores the conversation's new head itself, once,
 * before its transaction ends.
 */
export async function appendEvent(
  deps: IngestDeps,
  tx: Tx,
  conversation: ConversationRecord,
  event: InboundEvent,
  options: { relay: boolean; advance?: boolean },
): Promise<{ stored: EventRecord; conversation: ConversationRecord }> {
  const { store } = deps;
  const receivedAt = deps.clock.now();
  const seq = conversation.lastSeq + 1;
  const draft = {
    seq,
    channel: event.channel,
    waMessageId: event.waMessageId,
    kind: event.kind,
    versionKey: event.versionKey,
    direction: event.direction,
    timestamp: event.timestamp,
    event,
    receivedAt,
  };
  const chainHash = chainLink(conversation.chainHead, canonicalRecord(conversation.chatKey, draft));
  const media = 'content' in event && 'media' in event.content ? event.content.media : undefined;
  const relayOf = (eventId: number) => ({ kind: 'mail.relay' as const, payload: { conversationId: conversation.id, eventId }, conversationId: conversation.id, sortKey: seq });
  // Without media the relay job is written with the event (one round trip on PostgreSQL).
  const stored = await store.appendEventRecord(
    tx,
    { ...draft, conversationId: conversation.id, chainHash },
    { advance: options.advance !== false, ...(options.relay && !media ? { job: relayOf } : {}) },
  );
  const advanced = { ...conversation, lastSeq: seq, chainHead: chainHash };

  if (media) {
    const attachment = await store.insertAttachment(tx, {
      eventId: stored.id,
      ordinal: 0,
      waMediaId: media.waMediaId,
      mimeType: media.mimeType,
      fileName: media.fileName ?? null,
      announcedSha256: media.sha256 ?? null,
    });
    if (media.storedSha256 !== undefined) {
      // The firm's own file or an imported one: already in the blob store, so the mail can go at once.
      await store.setAttachmentBlob(tx, attachment.id, media.storedSha256, media.storedSize ?? 0);
      if (options.relay) await store.enqueue(tx, relayOf(stored.id));
    } else if (options.relay) {
      await store.enqueue(tx, {
        kind: 'media.fetch',
        payload: { conversationId: conversation.id, eventId: stored.id, attachmentId: attachment.id },
        conversationId: conversation.id,
        sortKey: seq,
      });
    }
  }
  return { stored, conversation: advanced };
}

/** The conversation `found` for the event's client (held for appending), or a new one when none was. */
async function resolveConversation(
  deps: IngestDeps,
  tx: Tx,
  event: InboundEvent,
  found: ConversationRecord | undefined,
): Promise<{ conversation: ConversationRecord; opened: boolean }> {
  const { store, tenant } = deps;
  const { client, business } = event;
  if (found) {
    if ((client.userId && !found.clientUserId) || (client.waId && !found.clientWaId)) {
      await store.addConversationIdentity(tx, found.id, {
        ...(client.waId && !found.clientWaId ? { clientWaId: client.waId } : {}),
        ...(client.userId && !found.clientUserId ? { clientUserId: client.userId } : {}),
      });
    }
    return { conversation: found, opened: false };
  }

  // A business-scoped user_id outlives phone-number changes, so it keys the chat when known.
  const clientId = client.userId ?? client.waId ?? '';
  const chatKey = makeChatKey(business.id, clientId);
  const chatToken = makeChatToken(tenant, event.channel, chatKey);
  const conversation = await store.createConversation(tx, {
    tenant,
    channel: event.channel,
    chatKey,
    chatToken,
    businessId: business.id,
    businessDisplayNumber: business.displayNumber ?? null,
    clientWaId: client.waId ?? null,
    clientUserId: client.userId ?? null,
    clientName: client.name ?? null,
    subject: makeSubject({ clientName: client.name ?? null, clientWaId: client.waId ?? null, clientUserId: client.userId ?? null, chatToken }),
    openedAt: event.timestamp,
    createdAt: deps.clock.now(),
  });
  // The cover mail carries the thread's root Message-ID; sort key 0 sends it before any event.
  await store.enqueue(tx, { kind: 'mail.relay', payload: { conversationId: conversation.id, eventId: null }, conversationId: conversation.id, sortKey: 0 });
  return { conversation, opened: true };
}
