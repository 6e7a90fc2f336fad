import type { InboundEvent } from '../core/events.js';
import { NotFoundError } from '../core/errors.js';
import { makeReplyToken } from '../core/ids.js';
import type { BlobStore, Clock, MailComposer, MailTransport, Outbox, Store } from '../core/ports.js';
import type { Job, RelayRecord } from '../core/records.js';
import { buildRelayMail, type RelayMailInput } from '../core/relay-mail.js';

export interface RelayDeps {
  store: Store;
  outbox: Outbox;
  blobs: BlobStore;
  composer: MailComposer;
  transport: MailTransport;
  clock: Clock;
  tenant: string;
  mailDomain: string;
  mailbox: string;
  envelopeFrom: string;
  replySecret: Uint8Array;
}

/** How many earlier mails a References header names besides the root (RFC 5322 3.6.4). */
const REFERENCES_DEPTH = 20;

export interface RelayOutcome {
  mailMessageId: string;
  /** False when the mail had already been sent and the job only caught up with that. */
  sent: boolean;
}

/**
 * Runs one mail.relay job: composes the event's mail from stored facts (or reuses the bytes
 * prepared by an earlier attempt), hands it to the transport, then records the relay and
 * completes the job in one transaction. A crash between send and record resends the very same
 * bytes, which the mailbox de-duplicates on Message-ID.
 */
export async function relayEvent(deps: RelayDeps, job: Job<'mail.relay'>): Promise<RelayOutcome> {
  const { conversationId, eventId } = job.payload;
  const loaded = await deps.store.read(async (tx) => {
    const relay = await deps.store.getRelay(tx, conversationId, eventId);
    if (relay) return { kind: 'existing' as const, relay };
    const conversation = await deps.store.getConversation(tx, conversationId);
    if (!conversation) throw new NotFoundError(`conversation ${conversationId} is not in the store`);
    const event = eventId === null ? null : await deps.store.getEvent(tx, eventId);
    if (event === undefined) throw new NotFoundError(`event ${eventId} is not in the store`);
    if (event === null) return { kind: 'new' as const, facts: { conversation, event, previous: [], attachmentRows: [] } };
    const relatedId = relatedWaMessageId(event.event);
    const related = relatedId ? await deps.store.findMessageByWaId(tx, conversationId, relatedId) : undefined;
    return {
      kind: 'new' as const,
      facts: {
        conversation,
        event,
        previous: await deps.store.listEventKeysBefore(tx, conversationId, event.seq, REFERENCES_DEPTH),
        attachmentRows: await deps.store.listAttachments(tx, event.id),
        ...(related ? { related } : {}),
      },
    };
  });

  let relay: RelayRecord;
  let raw: Buffer | undefined;
  if (loaded.kind === 'existing') {
    relay = loaded.relay;
    if (relay.state === 'prepared') raw = await deps.blobs.get(relay.rawSha256);
  } else {
    // Compose outside any transaction: it reads blobs and costs CPU, and the store is shared.
    const { attachmentRows, ...facts } = loaded.facts;
    const attachments: RelayMailInput['attachments'] = [];
    for (const record of attachmentRows) {
      if (record.sha256) attachments.push({ record, content: await deps.blobs.get(record.sha256) });
    }
    const mail = buildRelayMail({
      tenant: deps.tenant,
      mailDomain: deps.mailDomain,
      mailbox: deps.mailbox,
      replyAddress: `wa+${makeReplyToken(deps.replySecret, facts.conversation.chatToken)}@${deps.mailDomain}`,
      ...facts,
      attachments,
      archiveHash: facts.event?.chainHash ?? '',
    });
    raw = await deps.composer.compose(mail);
    const rawSha256 = await deps.blobs.put(raw);
    const prepared = { conversationId, eventId, mailMessageId: mail.messageId, rawSha256, preparedAt: deps.clock.now() };
    await deps.store.transaction((tx) => deps.store.prepareRelay(tx, { ...prepared, rawSize: raw?.length ?? 0 }));
    relay = { ...prepared, state: 'prepared', sentAt: null, response: null };
  }

  if (raw === undefined) {
    await deps.store.transaction((tx) => deps.outbox.complete(tx, job.id));
    return { mailMessageId: relay.mailMessageId, sent: false };
  }
  const result = await deps.transport.send(raw, { from: deps.envelopeFrom, to: [deps.mailbox] });
  await deps.store.transaction(async (tx) => {
    await deps.store.markRelaySent(tx, relay.mailMessageId, deps.clock.now(), result.response);
    await deps.outbox.complete(tx, job.id);
  });
  return { mailMessageId: relay.mailMessageId, sent: true };
}

function relatedWaMessageId(event: InboundEvent): string | undefined {
  switch (event.kind) {
    case 'message':
      return event.quoted?.waMessageId;
    case 'edit':
    case 'deletion':
    case 'reaction':
      return event.targetWaMessageId;
  }
}
