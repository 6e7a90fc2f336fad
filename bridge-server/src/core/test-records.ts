import type { Content, InboundEvent } from './events.js';
import { makeChatKey, makeChatToken } from './ids.js';
import type { AttachmentRecord, ConversationRecord, EventRecord } from './records.js';
import { makeSubject } from './threading.js';

/**
 * Test-only factories for stored records, so tests state only what they are about. Used by unit
 * tests beside the code; not imported by production modules.
 */

export const testTenant = 'acme-law';
export const testDomain = 'wa.firm.example';
export const testOpenedAt = Date.parse('2024-01-31T13:45:02Z');

export function makeConversationRecord(overrides: Partial<ConversationRecord> = {}): ConversationRecord {
  const businessId = overrides.businessId ?? '106540352242922';
  const clientWaId = overrides.clientWaId === undefined ? '447700900123' : overrides.clientWaId;
  const chatKey = overrides.chatKey ?? makeChatKey(businessId, clientWaId ?? overrides.clientUserId ?? 'unknown');
  const chatToken = overrides.chatToken ?? makeChatToken(overrides.tenant ?? testTenant, overrides.channel ?? 'cloud-api', chatKey);
  const clientName = overrides.clientName === undefined ? 'Jane Smith' : overrides.clientName;
  const clientUserId = overrides.clientUserId ?? null;
  return {
    id: 1,
    tenant: testTenant,
    channel: 'cloud-api',
    businessId,
    businessDisplayNumber: '+44 20 7946 0000',
    subject: makeSubject({ clientName, clientWaId, clientUserId, chatToken }),
    openedAt: testOpenedAt,
    lastSeq: 0,
    chainHead: '',
    createdAt: testOpenedAt,
    ...overrides,
    chatKey,
    chatToken,
    clientWaId,
    clientUserId,
    clientName,
  };
}

type EventBase = Omit<InboundEvent, 'kind' | 'content' | 'quoted' | 'forwarded' | 'frequentlyForwarded' | 'targetWaMessageId' | 'emoji'>;

export interface EventOptions {
  seq?: number;
  waMessageId?: string;
  versionKey?: string;
  timestamp?: number;
  direction?: 'inbound' | 'outbound';
  author?: { id: string; name?: string };
  clientName?: string;
}

let counter = 0;

function base(options: EventOptions): EventBase {
  counter += 1;
  return {
    channel: 'cloud-api',
    business: { id: '106540352242922', displayNumber: '+44 20 7946 0000' },
    client: { waId: '447700900123', name: options.clientName ?? 'Jane Smith' },
    waMessageId: options.waMessageId ?? `wamid.TEST${String(counter).padStart(6, '0')}`,
    versionKey: options.versionKey ?? '',
    timestamp: options.timestamp ?? testOpenedAt + counter * 60_000,
    direction: options.direction ?? 'inbound',
    ...(options.author === undefined ? {} : { author: options.author }),
    raw: {},
  };
}

function toRecord(event: InboundEvent, options: EventOptions): EventRecord {
  const seq = options.seq ?? counter;
  return {
    id: seq,
    conversationId: 1,
    seq,
    channel: event.channel,
    waMessageId: event.waMessageId,
    kind: event.kind,
    versionKey: event.versionKey,
    direction: event.direction,
    timestamp: event.timestamp,
    event,
    chainHash: 'ab'.repeat(32),
    receivedAt: event.timestamp + 1_000,
  };
}

export interface MessageOptions extends EventOptions {
  quoted?: string;
  forwarded?: boolean;
  frequentlyForwarded?: boolean;
}

export function makeMessageRecord(content: Content, options: MessageOptions = {}): EventRecord {
  const event: InboundEvent = {
    ...base(options),
    kind: 'message',
    content,
    ...(options.quoted === undefined ? {} : { quoted: { waMessageId: options.quoted } }),
    ...(options.forwarded === undefined ? {} : { forwarded: options.forwarded }),
    ...(options.frequentlyForwarded === undefined ? {} : { frequentlyForwarded: options.frequentlyForwarded }),
  };
  return toRecord(event, options);
}

export const makeTextRecord = (body: string, options: MessageOptions = {}): EventRecord => makeMessageRecord({ type: 'text', body }, options);

export function makeEditRecord(target: EventRecord, content: Content, options: EventOptions = {}): EventRecord {
  const b = base({ versionKey: String(options.timestamp ?? testOpenedAt + 3_600_000), ...options });
  return toRecord({ ...b, waMessageId: options.waMessageId ?? target.waMessageId, kind: 'edit', targetWaMessageId: target.waMessageId, content }, options);
}

export function makeDeletionRecord(target: EventRecord, options: EventOptions = {}): EventRecord {
  const b = base({ versionKey: 'deleted', ...options });
  return toRecord({ ...b, waMessageId: options.waMessageId ?? target.waMessageId, kind: 'deletion', targetWaMessageId: target.waMessageId }, options);
}

export function makeReactionRecord(target: EventRecord, emoji: string | null, options: EventOptions = {}): EventRecord {
  return toRecord({ ...base(options), kind: 'reaction', targetWaMessageId: target.waMessageId, emoji }, options);
}

export function makeAttachmentRecord(overrides: Partial<AttachmentRecord> = {}): AttachmentRecord {
  return {
    id: 1,
    eventId: 1,
    ordinal: 0,
    waMediaId: '1234567890',
    mimeType: 'image/jpeg',
    fileName: null,
    announcedSha256: null,
    sha256: null,
    size: null,
    ...overrides,
  };
}
