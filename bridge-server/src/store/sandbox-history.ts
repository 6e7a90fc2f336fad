import { NotFoundError } from '../core/errors.js';
import type { BlobStore } from '../core/ports.js';
import type { DeliveryStatus, EventRecord } from '../core/records.js';
import { toEvent } from './events.js';
import type { Executor } from './executor.js';

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
}

export interface HistoryMessage {
  /** The stored message event (kind `message`), either direction. */
  record: EventRecord;
  /** The client's phone number (wa_id, digits only) of the message's conversation. */
  clientWaId: string;
  /** Delivery statuses WhatsApp reported for an outbound message, each once, in no order. */
  statuses: DeliveryStatus[];
}

export interface SandboxHistory {
  /** Relayed mails, in the order they went out. */
  mails: RelayedMail[];
  /** Messages in the order they were stored. */
  messages: HistoryMessage[];
}

const sandboxChannel = 'cloud-api';

export async function readSandboxHistory(db: Executor, blobs: BlobStore, scope: SandboxHistoryScope): Promise<SandboxHistory> {
  const [mails, inbound, outbound] = await Promise.all([readRelayedMails(db, blobs, scope), readMessages(db, scope, 'inbound'), readMessages(db, scope, 'outbound')]);
  const statuses = await readStatuses(db, scope.tenant, outbound.map((message) => message.record.waMessageId));
  const messages = [...inbound, ...outbound.map((message) => ({ ...message, statuses: statuses.get(message.record.waMessageId) ?? [] }))];
  messages.sort((a, b) => a.record.id - b.record.id);
  return { mails, messages };
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
