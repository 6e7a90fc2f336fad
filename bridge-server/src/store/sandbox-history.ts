import { NotFoundError } from '../core/errors.js';
import type { BlobStore } from '../core/ports.js';
import type { ConversationRecord, DeliveryStatus, EventRecord, OutboundRecord } from '../core/records.js';
import { getConversation } from './conversations.js';
import { toEvent } from './events.js';
import type { Executor } from './executor.js';
import { getOutbound } from './outbound.js';

/**
 * What the sandbox relayed and sent before its current start, read back from the store: the
 * sandbox keeps its mail catcher and simulator in memory, while the store outlives them. Only the
 * conversations of the sandbox's own simulated number are read.
 */

export interface SandboxHistoryScope {
  tenant: string;
  /** The Cloud API number (phone_number_id) the sandbox's simulator plays. */
  businessId: string;
  /** How many of the newest relayed mails to read. */
  mails: number;
  /** How many of the newest messages to read in each direction. */
  messages: number;
}

export interface RelayedMail {
  /** The mail's bytes, exactly as they were relayed. */
  raw: Buffer;
  /** When the mail server took it (ms since the epoch). */
  sentAt: number;
  /** The envelope's recipients when not the firm mailbox alone (a notice also goes to the solicitor). */
  to?: string[];
}

export interface HistoryMessage {
  /** The stored message event (kind `message`), either direction. */
  record: EventRecord;
  /** The client's phone number (wa_id, digits only) of the message's conversation. */
  clientWaId: string;
  /** Delivery statuses WhatsApp reported for an outbound message, each once, in no order. */
  statuses: DeliveryStatus[];
  /** A photo or sticker whose file the bridge never downloaded: the simulator that held it is gone. */
  pictureMissing?: true;
}

/**
 * A reply that failed and whose notice mail has gone to the solicitor. Notices are composed from
 * these facts when they are sent and are not archived as bytes; the sandbox composes them again.
 */
export interface HistoryNotice {
  record: OutboundRecord;
  conversation: ConversationRecord;
}

export interface SandboxHistory {
  /** Relayed mails, in the order they went out. */
  mails: RelayedMail[];
  /** Messages in the order they were stored. */
  messages: HistoryMessage[];
  /** Failed replies whose notice went, in the order they failed. */
  notices: HistoryNotice[];
}

const sandboxChannel = 'cloud-api';

/** Message types that carry a picture: a phone shows them as it. */
export const pictureEvents: readonly string[] = ['image', 'sticker'];

/** What a phone shows as a picture. Any other type (SVG above all, which can hold script) is not served as one. */
const pictureTypes = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

export interface SandboxPicture {
  bytes: Buffer;
  mimeType: string;
}

/**
 * The picture of a photo or sticker message in the sandbox's conversations (either side), as the
 * bridge stored it. Undefined when no such message is stored, it holds no picture, or its file is
 * not downloaded from WhatsApp yet.
 */
export async function readSandboxPicture(db: Executor, blobs: BlobStore, scope: Pick<SandboxHistoryScope, 'tenant' | 'businessId'>, waMessageId: string): Promise<SandboxPicture | undefined> {
  const row = await db
    .selectFrom('events')
    .innerJoin('conversations', 'conversations.id', 'events.conversation_id')
    .innerJoin('attachments', 'attachments.event_id', 'events.id')
    .select(['attachments.sha256 as sha256', 'attachments.mime_type as mimeType'])
    .where('events.tenant', '=', scope.tenant)
    .where('events.channel', '=', sandboxChannel)
    .where('events.wa_message_id', '=', waMessageId)
    .where('events.kind', '=', 'message')
    .where('events.content_type', 'in', pictureEvents)
    .where('conversations.business_id', '=', scope.businessId)
    .where('attachments.sha256', 'is not', null)
    .orderBy('events.id', 'desc')
    .orderBy('attachments.ordinal')
    .limit(1)
    .executeTakeFirst();
  if (!row?.sha256 || pictureType(row.mimeType) === undefined) return undefined;
  const bytes = await blobs.get(row.sha256).catch((error: unknown) => {
    // Retention may be deleting the conversation right now.
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  return bytes ? asPicture(bytes, row.mimeType) : undefined;
}

/** The bytes as a picture when their type is one a phone shows as one; undefined otherwise. */
export function asPicture(bytes: Buffer, mimeType: string): SandboxPicture | undefined {
  const type = pictureType(mimeType);
  return type === undefined ? undefined : { bytes, mimeType: type };
}

/** The bare, lower-case type when it is a picture type. */
function pictureType(mimeType: string): string | undefined {
  const bare = (mimeType.split(';')[0] ?? '').trim().toLowerCase();
  return pictureTypes.has(bare) ? bare : undefined;
}

export async function readSandboxHistory(db: Executor, blobs: BlobStore, scope: SandboxHistoryScope): Promise<SandboxHistory> {
  const [mails, inbound, outbound, notices] = await Promise.all([readRelayedMails(db, blobs, scope), readMessages(db, scope, 'inbound'), readMessages(db, scope, 'outbound'), readNotices(db, scope)]);
  const statuses = await readStatuses(db, scope.tenant, outbound.map((message) => message.record.waMessageId));
  const pictures = [...inbound, ...outbound].filter(({ record }) => record.event.kind === 'message' && pictureEvents.includes(record.event.content.type));
  const missing = await picturesNotStored(db, pictures.map(({ record }) => record.id));
  const messages = [...inbound, ...outbound.map((message) => ({ ...message, statuses: statuses.get(message.record.waMessageId) ?? [] }))].map((message) =>
    missing.has(message.record.id) ? { ...message, pictureMissing: true as const } : message,
  );
  messages.sort((a, b) => a.record.id - b.record.id);
  return { mails, messages, notices };
}

/**
 * The newest failed replies in the sandbox's conversations (as many as mails are read), oldest
 * first, leaving out those whose notice is still queued: that one is sent, and caught, after the start.
 */
async function readNotices(db: Executor, scope: SandboxHistoryScope): Promise<HistoryNotice[]> {
  const queued: number[] = [];
  for (const job of await db.selectFrom('outbox_jobs').select('payload_json').where('kind', '=', 'mail.notice').execute()) {
    const { commandId } = JSON.parse(job.payload_json) as { commandId?: unknown };
    if (typeof commandId === 'number') queued.push(commandId);
  }
  let query = db
    .selectFrom('outbound_commands')
    .innerJoin('conversations', 'conversations.id', 'outbound_commands.conversation_id')
    .select(['outbound_commands.id as id', 'outbound_commands.conversation_id as conversationId'])
    .where('conversations.tenant', '=', scope.tenant)
    .where('conversations.channel', '=', sandboxChannel)
    .where('conversations.business_id', '=', scope.businessId)
    .where('outbound_commands.state', '=', 'failed');
  // Few: a notice goes within seconds of its failure. At most 500 are named, within any engine's bound-parameter limit.
  if (queued.length > 0) query = query.where('outbound_commands.id', 'not in', queued.slice(0, 500));
  const rows = await query.orderBy('outbound_commands.updated_at', 'desc').orderBy('outbound_commands.id', 'desc').limit(scope.mails).execute();
  const notices: HistoryNotice[] = [];
  const conversations = new Map<number, ConversationRecord | undefined>();
  for (const row of rows.reverse()) {
    if (!conversations.has(row.conversationId)) conversations.set(row.conversationId, await getConversation(db, row.conversationId));
    const [record, conversation] = [await getOutbound(db, row.id), conversations.get(row.conversationId)];
    if (record && conversation) notices.push({ record, conversation });
  }
  return notices;
}

/** The newest mails relayed in the sandbox's conversations and recorded as sent, oldest first. */
async function readRelayedMails(db: Executor, blobs: BlobStore, scope: SandboxHistoryScope): Promise<RelayedMail[]> {
  const rows = await db
    .selectFrom('mail_relays')
    .innerJoin('conversations', 'conversations.id', 'mail_relays.conversation_id')
    .select(['mail_relays.raw_sha256 as sha256', 'mail_relays.sent_at as sentAt', 'mail_relays.prepared_at as preparedAt'])
    .where('conversations.tenant', '=', scope.tenant)
    .where('conversations.channel', '=', sandboxChannel)
    .where('conversations.business_id', '=', scope.businessId)
    .where('mail_relays.state', '=', 'sent')
    .orderBy('mail_relays.sent_at', 'desc')
    .orderBy('mail_relays.id', 'desc')
    .limit(scope.mails)
    .execute();
  const mails: RelayedMail[] = [];
  // One after another: a few hundred reads at most, each of a mail the size of its attachments.
  for (const row of rows.reverse()) {
    const raw = await blobs.get(row.sha256).catch((error: unknown) => {
      // The bytes of a mail whose conversation retention is deleting right now may be gone already.
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (raw) mails.push({ raw, sentAt: Number(row.sentAt ?? row.preparedAt) });
  }
  return mails;
}

/** The newest message events of one direction in the sandbox's conversations, oldest first. */
async function readMessages(db: Executor, scope: SandboxHistoryScope, direction: 'inbound' | 'outbound'): Promise<HistoryMessage[]> {
  const rows = await db
    .selectFrom('events')
    .innerJoin('conversations', 'conversations.id', 'events.conversation_id')
    .selectAll('events')
    .select('conversations.client_wa_id as client_wa_id')
    .where('conversations.tenant', '=', scope.tenant)
    .where('conversations.channel', '=', sandboxChannel)
    .where('conversations.business_id', '=', scope.businessId)
    .where('conversations.client_wa_id', 'is not', null)
    .where('events.kind', '=', 'message')
    .where('events.direction', '=', direction)
    .orderBy('events.id', 'desc')
    .limit(scope.messages)
    .execute();
  return rows.reverse().map(({ client_wa_id: clientWaId, ...row }) => ({ record: toEvent(row), clientWaId: clientWaId ?? '', statuses: [] }));
}

/** Which of these events' pictures have no stored file. */
async function picturesNotStored(db: Executor, eventIds: number[]): Promise<Set<number>> {
  const out = new Set<number>();
  // Bounded by the scope's message count; chunked to stay well inside any bound-parameter limit.
  for (let start = 0; start < eventIds.length; start += 500) {
    const rows = await db.selectFrom('attachments').select('event_id').where('event_id', 'in', eventIds.slice(start, start + 500)).where('sha256', 'is', null).execute();
    for (const row of rows) out.add(row.event_id);
  }
  return out;
}

/** The statuses stored for each of these messages of the sandbox's channel. */
async function readStatuses(db: Executor, tenant: string, waMessageIds: string[]): Promise<Map<string, DeliveryStatus[]>> {
  const out = new Map<string, DeliveryStatus[]>();
  // Bounded by the scope's message count; chunked to stay well inside any bound-parameter limit.
  for (let start = 0; start < waMessageIds.length; start += 500) {
    const rows = await db
      .selectFrom('statuses')
      .select(['wa_message_id', 'status'])
      .where('tenant', '=', tenant)
      .where('channel', '=', sandboxChannel)
      .where('wa_message_id', 'in', waMessageIds.slice(start, start + 500))
      .execute();
    for (const row of rows) out.set(row.wa_message_id, [...(out.get(row.wa_message_id) ?? []), row.status as DeliveryStatus]);
  }
  return out;
}
