import type { ChannelKind, InboundEvent, StatusEvent } from './events.js';
import type { OutgoingMail } from './mail.js';
import type { OutboundCommand } from './commands.js';
import type {
  AttachmentRecord,
  ConversationRecord,
  DeliveryStatus,
  EventKey,
  EventRecord,
  Job,
  JobKind,
  NewEventRecord,
  NewJob,
  OutboundRecord,
  OutboundState,
  PreparedRelay,
  RelayRecord,
} from './records.js';

/**
 * The interfaces flows need from the world. Adapters implement them; app.ts wires them.
 */

/** An open store transaction. Opaque to flows: they only pass it back to the store. */
export interface Tx {
  readonly isTransaction: true;
}

export interface ClientLookup {
  tenant: string;
  channel: InboundEvent['channel'];
  businessId: string;
  waId?: string;
  userId?: string;
}

export type NewConversation = Omit<ConversationRecord, 'id' | 'lastSeq' | 'chainHead'>;

/**
 * The archive store. Every method but `transaction` takes the transaction handle first; there is
 * no ambient transaction. Methods throw only on store failure (the caller's transaction is then
 * rolled back).
 */
export interface Store {
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` with a handle that reads committed data without opening a transaction: for reads of
   * archived facts, which never change, where a snapshot buys nothing. `fn` must not write.
   */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;

  findConversation(tx: Tx, lookup: ClientLookup): Promise<ConversationRecord | undefined>;
  getConversation(tx: Tx, id: number): Promise<ConversationRecord | undefined>;
  getConversationByToken(tx: Tx, chatToken: string): Promise<ConversationRecord | undefined>;
  /** The conversation as it stands, its chain held for this transaction's appends until it ends. */
  lockConversation(tx: Tx, id: number): Promise<ConversationRecord | undefined>;
  createConversation(tx: Tx, conversation: NewConversation): Promise<ConversationRecord>;
  /** Fills in an identity attribute learnt later (a user_id for a chat first keyed by phone). */
  addConversationIdentity(tx: Tx, id: number, identity: { clientWaId?: string; clientUserId?: string }): Promise<void>;
  /** Moves the conversation's sequence counter and chain head to the event just inserted. */
  advanceConversation(tx: Tx, id: number, lastSeq: number, chainHead: string): Promise<void>;

  /** True when an event with this unique key (tenant via conversation, channel, id, kind, version) exists. */
  hasEvent(tx: Tx, key: { tenant: string; channel: string; waMessageId: string; kind: string; versionKey: string }): Promise<boolean>;
  /**
   * hasEvent, then for an event not stored yet findConversation (the conversation held the same
   * way), in one round trip where the store can. No conversation is read for a stored event.
   */
  findConversationUnlessStored(
    tx: Tx,
    key: { tenant: string; channel: string; waMessageId: string; kind: string; versionKey: string },
    lookup: ClientLookup,
  ): Promise<{ stored: true } | { stored: false; conversation: ConversationRecord | undefined }>;
  insertEvent(tx: Tx, event: NewEventRecord): Promise<EventRecord>;
  /**
   * insertEvent, then advanceConversation to the event when `advance`, then enqueue of the job
   * `job` builds from the stored event's id: the same rows, in one round trip where the store can.
   * `job` must use the id only as a value in the payload.
   */
  appendEventRecord(tx: Tx, event: NewEventRecord, follow: { advance: boolean; job?: (eventId: number) => NewJob }): Promise<EventRecord>;
  getEvent(tx: Tx, id: number): Promise<EventRecord | undefined>;
  /** The newest event of the conversation with this WhatsApp id and kind 'message', if stored. */
  findMessageByWaId(tx: Tx, conversationId: number, waMessageId: string): Promise<EventRecord | undefined>;
  /** The keys of up to `limit` events before `seq`, oldest first (for References). */
  listEventKeysBefore(tx: Tx, conversationId: number, seq: number, limit: number): Promise<EventKey[]>;

  insertAttachment(tx: Tx, attachment: Omit<AttachmentRecord, 'id' | 'sha256' | 'size'>): Promise<AttachmentRecord>;
  getAttachment(tx: Tx, id: number): Promise<AttachmentRecord | undefined>;
  listAttachments(tx: Tx, eventId: number): Promise<AttachmentRecord[]>;
  setAttachmentBlob(tx: Tx, id: number, sha256: string, size: number): Promise<void>;

  /** Stores a status once per (message id, status); returns false for a duplicate. */
  insertStatus(tx: Tx, status: StatusEvent, tenant: string): Promise<boolean>;
  /** The statuses stored for one WhatsApp message, oldest first. */
  listStatuses(tx: Tx, tenant: string, channel: ChannelKind, waMessageId: string): Promise<StatusEvent[]>;
  /** The message whose statuses carry `callbackData`, with its earliest status time (ms). */
  findStatusByCallback(tx: Tx, tenant: string, channel: ChannelKind, callbackData: string): Promise<{ waMessageId: string; timestamp: number } | undefined>;

  getRelay(tx: Tx, conversationId: number, eventId: number | null): Promise<RelayRecord | undefined>;
  /** Records the composed bytes of a mail before its first send. */
  prepareRelay(tx: Tx, relay: PreparedRelay): Promise<void>;
  markRelaySent(tx: Tx, mailMessageId: string, sentAt: number, response: string): Promise<void>;

  enqueue(tx: Tx, job: NewJob): Promise<number>;

  /** Stores a command once per source; `created` false when that source was seen before. */
  insertOutbound(tx: Tx, command: OutboundCommand): Promise<{ id: number; created: boolean }>;
  getOutbound(tx: Tx, id: number): Promise<OutboundRecord | undefined>;
  addOutboundPart(tx: Tx, commandId: number, index: number, waMessageId: string, sentAt: number): Promise<void>;
  /** Whether a WhatsApp message is already recorded as a part of some reply. */
  isOutboundPart(tx: Tx, waMessageId: string): Promise<boolean>;
  setOutboundState(tx: Tx, id: number, state: OutboundState, error?: { code: string; message: string }): Promise<void>;
  /**
   * Moves a sent part's status forward (never back). The part is found by its WhatsApp id, else by
   * the callback data its send carried; undefined when the status is about no recorded part.
   */
  applyDeliveryStatus(
    tx: Tx,
    target: { waMessageId: string; channel: ChannelKind; callbackData?: string | undefined; recipientId?: string | undefined },
    status: DeliveryStatus,
    at: number,
  ): Promise<{ commandId: number; conversationId: number; changed: boolean } | undefined>;
  /** WhatsApp time of the client's newest message, or null. */
  lastInboundAt(tx: Tx, conversationId: number): Promise<number | null>;
  /** The event whose mail had this Message-ID (no brackets), if the bridge relayed it. */
  findEventByMailId(tx: Tx, mailMessageId: string): Promise<EventRecord | undefined>;
}

/**
 * The outbox: jobs written in the same transaction as their data and run after commit.
 */
export interface Outbox {
  /**
   * Claims up to `limit` due jobs, at most one running per conversation, oldest first within a
   * conversation. Claimed jobs are `running` until finished or until their lease runs out.
   */
  claim(limit: number, now: number, leaseMs: number): Promise<Job[]>;
  /** Finishes the job inside `tx` (it is removed), so its effect and its completion commit together. */
  complete(tx: Tx, jobId: number): Promise<void>;
  /** Puts the job back to pending at `runAt` with the error recorded. */
  reschedule(jobId: number, runAt: number, error: string): Promise<void>;
  /** Parks the job for a person to look at; it never runs again by itself. */
  park(jobId: number, error: string): Promise<void>;
  /** Jobs stuck `running` past their lease (a crash) go back to pending. */
  recoverExpired(now: number): Promise<number>;
  counts(): Promise<Record<JobKind, Record<Job['state'], number>>>;
}

/** Content-addressed blob storage for media and relayed mail. */
export interface BlobStore {
  /** Stores the bytes under their SHA-256 (hex) and returns it; storing twice is harmless. */
  put(bytes: Uint8Array): Promise<string>;
  /** Throws NotFoundError when absent. */
  get(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
}

/** Downloads one media item from the channel that announced it. */
export interface MediaFetcher {
  /**
   * Fetches the bytes for a media id. Throws UpstreamError (transient for network trouble, 5xx,
   * 429 or an expired URL; permanent for 4xx such as an unknown id) or BadInputError when the
   * bytes do not match the announced SHA-256.
   */
  fetch(ref: { waMediaId: string; businessId: string; announcedSha256: string | null }): Promise<{ bytes: Buffer; mimeType: string }>;
}

/** Writes one OutgoingMail as RFC 5322 bytes. Deterministic: the same mail gives the same bytes. */
export interface MailComposer {
  compose(mail: OutgoingMail): Promise<Buffer>;
}

export interface SendResult {
  /** The server's reply, e.g. "250 2.0.0 Ok: queued as 4Xyz". */
  response: string;
}

/**
 * Hands a composed message to the firm's mail system. Throws UpstreamError: transient for a
 * dropped connection or a 4xx reply, permanent for a 5xx reply.
 */
export interface MailTransport {
  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<SendResult>;
  close(): Promise<void>;
}

/** What the channel answered for one sent WhatsApp message. */
export interface SendReceipt {
  waMessageId: string;
  /** Channel time of the send, ms since the epoch (the mirrored mail's Date). */
  timestamp: number;
}

/** One outbound message as a channel sends it: the command with its files' bytes loaded. */
export interface OutboundMessage {
  /** The chat's addressable id on the channel: E.164 digits or BSUID (Cloud API), JID (whatsapp-web.js). */
  to: string;
  businessId: string;
  text?: string;
  files: Array<{ fileName: string; mimeType: string; bytes: Buffer }>;
  quotedWaMessageId?: string;
  template?: { name: string; language: string; parameters: string[] };
  /** Opaque id echoed back on delivery statuses where the channel supports it. */
  callbackData?: string;
}

/**
 * A WhatsApp channel that can send. Called from the wa.send job; may block on the network. Throws
 * UpstreamError (transient or permanent) or WindowClosedError when WhatsApp refuses a free-form
 * message outside the 24-hour window. Must not store anything: the flow records the receipt.
 */
export interface Channel {
  readonly kind: import('./events.js').ChannelKind;
  /** One WhatsApp message per call (a text, or a file with the text as caption, or a template). */
  send(message: OutboundMessage): Promise<SendReceipt>;
  /**
   * Messages already in the chat that match `message` (same content, sent by the firm at or
   * after `since`, ms), oldest first. Asked before sending a part that an earlier attempt may
   * have handed to WhatsApp without recording it (the process died, or the answer timed out), so
   * the part is recorded instead of sent twice. Channels that cannot look back leave it out.
   */
  findSent?(message: OutboundMessage, since: number): Promise<SendReceipt[]>;
}

export interface Clock {
  now(): number;
}

/**
 * Finds people of the firm (Microsoft Graph through the signed-in user's token). Used when a
 * matter member is added by email. May block on the network. Resolves undefined when nobody has
 * that address; throws UpstreamError when the directory cannot be asked.
 */
export interface UserDirectory {
  findUser(email: string, userToken: string): Promise<{ upn: string; name: string | null } | undefined>;
}
