import { sql } from 'kysely';
import type { ChannelKind, StatusEvent } from '../core/events.js';
import type { ClientLookup, NewConversation, Store, Tx } from '../core/ports.js';
import type { OutboundCommand } from '../core/commands.js';
import type { AttachmentRecord, DeliveryStatus, NewEventRecord, NewJob, OutboundState, PreparedRelay } from '../core/records.js';
import * as attachments from './attachments.js';
import * as conversations from './conversations.js';
import * as eventAppend from './event-append.js';
import * as events from './events.js';
import { asSqlTx, executorOf, type Executor } from './executor.js';
import * as outbound from './outbound.js';
import type { StatusTarget } from './outbound.js';
import * as outbox from './outbox.js';
import * as relays from './relays.js';
import * as statuses from './statuses.js';

/**
 * The Store port over Kysely. Each method delegates to the table family's module; this class
 * only adapts the transaction handle and fills in the tenant and the clock.
 */
export class SqlStore implements Store {
  constructor(
    readonly db: Executor,
    private readonly tenant: string,
    private readonly now: () => number = Date.now,
  ) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(asSqlTx(trx)));
  }

  /** Resolves when the database answers a trivial query (readiness). */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return fn(asSqlTx(this.db));
  }

  findConversation = (tx: Tx, lookup: ClientLookup) => conversations.findConversation(executorOf(tx), lookup);
  getConversation = (tx: Tx, id: number) => conversations.getConversation(executorOf(tx), id);
  lockConversation = (tx: Tx, id: number) => conversations.lockConversation(executorOf(tx), id);
  getConversationByToken = (tx: Tx, chatToken: string) => conversations.getConversationByToken(executorOf(tx), chatToken);
  createConversation = (tx: Tx, c: NewConversation) => conversations.createConversation(executorOf(tx), c);
  addConversationIdentity = (tx: Tx, id: number, identity: { clientWaId?: string; clientUserId?: string }) =>
    conversations.addConversationIdentity(executorOf(tx), id, identity);
  advanceConversation = (tx: Tx, id: number, lastSeq: number, chainHead: string) => conversations.advanceConversation(executorOf(tx), id, lastSeq, chainHead);

  hasEvent = (tx: Tx, key: { tenant: string; channel: string; waMessageId: string; kind: string; versionKey: string }) => events.hasEvent(executorOf(tx), key);
  findConversationUnlessStored = (tx: Tx, key: eventAppend.EventKeyLookup, lookup: ClientLookup) => eventAppend.findConversationUnlessStored(executorOf(tx), key, lookup);
  insertEvent = (tx: Tx, e: NewEventRecord) => events.insertEvent(executorOf(tx), this.tenant, e);
  appendEventRecord = (tx: Tx, e: NewEventRecord, follow: { advance: boolean; job?: (eventId: number) => NewJob }) =>
    eventAppend.appendEventRecord(executorOf(tx), this.tenant, this.now(), e, follow);
  getEvent = (tx: Tx, id: number) => events.getEvent(executorOf(tx), id);
  findMessageByWaId = (tx: Tx, conversationId: number, waMessageId: string) => events.findMessageByWaId(executorOf(tx), conversationId, waMessageId);
  listEventKeysBefore = (tx: Tx, conversationId: number, seq: number, limit: number) => events.listEventKeysBefore(executorOf(tx), conversationId, seq, limit);

  insertAttachment = (tx: Tx, a: Omit<AttachmentRecord, 'id' | 'sha256' | 'size'>) => attachments.insertAttachment(executorOf(tx), a);
  getAttachment = (tx: Tx, id: number) => attachments.getAttachment(executorOf(tx), id);
  listAttachments = (tx: Tx, eventId: number) => attachments.listAttachments(executorOf(tx), eventId);
  setAttachmentBlob = (tx: Tx, id: number, sha256: string, size: number) => attachments.setAttachmentBlob(executorOf(tx), id, sha256, size, this.now());

  insertStatus = (tx: Tx, status: StatusEvent, tenant: string) => statuses.insertStatus(executorOf(tx), tenant, status, this.now());
  listStatuses = (tx: Tx, tenant: string, channel: ChannelKind, waMessageId: string) => statuses.listStatuses(executorOf(tx), tenant, channel, waMessageId);
  findStatusByCallback = (tx: Tx, tenant: string, channel: ChannelKind, callbackData: string) => statuses.findByCallback(executorOf(tx), tenant, channel, callbackData);

  getRelay = (tx: Tx, conversationId: number, eventId: number | null) => relays.getRelay(executorOf(tx), conversationId, eventId);
  prepareRelay = (tx: Tx, r: PreparedRelay) => relays.prepareRelay(executorOf(tx), r);
  markRelaySent = (tx: Tx, mailMessageId: string, sentAt: number, response: string) => relays.markRelaySent(executorOf(tx), mailMessageId, sentAt, response);

  enqueue = (tx: Tx, job: NewJob) => outbox.enqueue(executorOf(tx), job, this.now());

  insertOutbound = (tx: Tx, command: OutboundCommand) => outbound.insertOutbound(executorOf(tx), command, this.now());
  getOutbound = (tx: Tx, id: number) => outbound.getOutbound(executorOf(tx), id);
  addOutboundPart = (tx: Tx, commandId: number, index: number, waMessageId: string, sentAt: number) =>
    outbound.addOutboundPart(executorOf(tx), commandId, index, waMessageId, sentAt);
  isOutboundPart = (tx: Tx, waMessageId: string) => outbound.isOutboundPart(executorOf(tx), waMessageId);
  setOutboundState = (tx: Tx, id: number, state: OutboundState, error?: { code: string; message: string }) =>
    outbound.setOutboundState(executorOf(tx), id, state, this.now(), error);
  applyDeliveryStatus = (tx: Tx, target: StatusTarget, status: DeliveryStatus, at: number) => outbound.applyDeliveryStatus(executorOf(tx), target, status, at);
  lastInboundAt = (tx: Tx, conversationId: number) => outbound.lastInboundAt(executorOf(tx), conversationId);
  findEventByMailId = async (tx: Tx, mailMessageId: string) => {
    const relay = await relays.getRelayByMessageId(executorOf(tx), mailMessageId);
    return relay?.eventId ? events.getEvent(executorOf(tx), relay.eventId) : undefined;
  };
}
