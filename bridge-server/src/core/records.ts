import type { ChatKey, ChatToken } from './ids.js';
import type { ChannelKind, Direction, EventKind, InboundEvent, StatusEvent } from './events.js';

/** A stored conversation: the record that joins a WhatsApp chat and its email thread. */
export interface ConversationRecord {
  id: number;
  tenant: string;
  channel: ChannelKind;
  chatKey: ChatKey;
  chatToken: ChatToken;
  businessId: string;
  businessDisplayNumber: string | null;
  clientWaId: string | null;
  clientUserId: string | null;
  /** The client's name as first seen; later profile names do not change the thread. */
  clientName: string | null;
  /** Fixed for the life of the chat (Outlook groups by it). */
  subject: string;
  /** WhatsApp time of the first event: the time in the Thread-Index header block. */
  openedAt: number;
  /** Number of events stored so far; the next event gets lastSeq + 1. */
  lastSeq: number;
  /** Hex SHA-256 of the newest link of this conversation's hash chain ('' before the first). */
  chainHead: string;
  createdAt: number;
}

/** One stored WhatsApp event, in the conversation's order of arrival. Never rewritten. */
export interface EventRecord {
  id: number;
  conversationId: number;
  seq: number;
  channel: ChannelKind;
  waMessageId: string;
  kind: EventKind;
  versionKey: string;
  direction: Direction;
  timestamp: number;
  event: InboundEvent;
  /** Hex SHA-256 chain link: hash(previous link, canonical form of this record). */
  chainHash: string;
  receivedAt: number;
}

export type NewEventRecord = Omit<EventRecord, 'id'>;

/** What names an event's mail: enough to derive its Message-ID without loading the event. */
export type EventKey = Pick<EventRecord, 'seq' | 'channel' | 'waMessageId' | 'kind' | 'versionKey'>;

/** A media item of an event; `sha256` is set once the bytes are stored. */
export interface AttachmentRecord {
  id: number;
  eventId: number;
  ordinal: number;
  waMediaId: string;
  mimeType: string;
  fileName: string | null;
  announcedSha256: string | null;
  sha256: string | null;
  size: number | null;
}

/**
 * The mail relayed for an event (or the cover mail, eventId null). It is written 'prepared', with
 * the exact bytes stored, before the first send; every retry sends those stored bytes, so one
 * Message-ID can never go out with two different contents.
 */
export interface RelayRecord {
  conversationId: number;
  eventId: number | null;
  mailMessageId: string;
  rawSha256: string;
  state: 'prepared' | 'sent';
  preparedAt: number;
  sentAt: number | null;
  response: string | null;
}

/**
 * A composed mail to record before its first send: its bytes' size, and `inline`, the bytes as
 * stored (sealed when sealed), when the blob's row keeps them rather than the blob store.
 */
export type PreparedRelay = Omit<RelayRecord, 'state' | 'sentAt' | 'response'> & { rawSize: number; inline?: Buffer };

export type StoredStatus = StatusEvent & { id: number };

/** A job exists until it is done; then it is deleted in the transaction that records its effect. */
export type JobState = 'pending' | 'running' | 'needs_attention';
export type JobKind = 'mail.relay' | 'media.fetch' | 'wa.send' | 'mail.notice';

export interface JobPayloads {
  /** eventId null: the conversation's cover mail. */
  'mail.relay': { conversationId: number; eventId: number | null };
  'media.fetch': { conversationId: number; eventId: number; attachmentId: number };
  'wa.send': { conversationId: number; commandId: number };
  /** A mail in the thread telling the solicitor a reply could not be sent, and what to do. */
  'mail.notice': { conversationId: number; commandId: number };
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** Statuses only move forward: a late `delivered` never replaces `read` (Cloud API order is not guaranteed). */
export const deliveryRank: Record<DeliveryStatus, number> = { sent: 1, delivered: 2, read: 3, failed: 4 };

/**
 * What a reply's part is sent with as `biz_opaque_callback_data` (Cloud API): WhatsApp returns it on
 * the part's statuses, which can then find the part even when its WhatsApp id is not one the store knows.
 */
export const partCallbackData = (commandId: number, index: number): string => `reply:${commandId}:${index}`;

/** The reply and part a callback names, or undefined when it is not one of partCallbackData's. */
export function parsePartCallback(data: string | undefined): { commandId: number; index: number } | undefined {
  const match = /^reply:(\d{1,15}):(\d{1,4})$/.exec(data ?? '');
  return match ? { commandId: Number(match[1]), index: Number(match[2]) } : undefined;
}

export interface OutboundPart {
  index: number;
  waMessageId: string;
  status: DeliveryStatus;
  statusAt: number;
  sentAt: number;
}

export type OutboundState = 'queued' | 'sent' | 'failed';

export interface OutboundRecord {
  id: number;
  conversationId: number;
  command: import('./commands.js').OutboundCommand;
  state: OutboundState;
  errorCode: string | null;
  errorMessage: string | null;
  parts: OutboundPart[];
  createdAt: number;
  /** When the state last changed (the time of a failure, for its notice mail). */
  updatedAt: number;
}

export interface NewJob<K extends JobKind = JobKind> {
  kind: K;
  payload: JobPayloads[K];
  /** Jobs of one conversation and lane run one at a time, in (sortKey, id) order. */
  conversationId: number | null;
  /**
   * Mail to the mailbox and messages to WhatsApp queue separately, so an SMTP outage never holds
   * back a reply to a client (and a WhatsApp outage never holds back the mailbox). Default 'mail'.
   */
  lane?: 'mail' | 'whatsapp';
  sortKey: number;
  runAt?: number;
}

export interface Job<K extends JobKind = JobKind> extends NewJob<K> {
  id: number;
  state: JobState;
  attempts: number;
  runAt: number;
  lastError: string | null;
  createdAt: number;
}
