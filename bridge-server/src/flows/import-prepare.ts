import { createHash } from 'node:crypto';
import type { ParsedMessage } from '@wa-bridge/shared/chat-export';
import type { InboundEvent } from '../core/events.js';
import type { ConversationRecord } from '../core/records.js';
import { WallClock, type ClockChange } from '../core/wall-time.js';
import { toImportedContent } from './import-content.js';

/** Messages per group: one transaction of the import. */
export const GROUP_SIZE = 2000;

/**
 * What turning an export's messages into events needs to know: plain data, so a thread can be
 * given it as well as this one.
 */
export interface PrepareContext {
  sourceSha256: string;
  timeZone: string;
  /** The business and client parts every event of the import shares. */
  party: Pick<ImportedEvent, 'business' | 'client'>;
  firmAuthors: string[];
  /** Media files of the export the messages may name: their SHA-256 and size. */
  media: Map<string, { sha256: string; size: number }>;
  /** When the import began: every event of it records this as the time the bridge received it. */
  receivedAt: number;
  /**
   * The conversation's chain when the import began. The groups are chained on from it as if no
   * other event came between them; the storing side uses those links only where that held.
   */
  chain: ChainState;
}

/** Where a conversation's chain stands: its last seq and its head link. */
export interface ChainState {
  chatKey: string;
  seq: number;
  head: string;
}

/**
 * A group of messages as events ready to be chained and stored, one array entry per message in
 * file order. Only plain arrays and typed arrays (and the rare clock change), so a thread hands it
 * over cheaply.
 */
export interface PreparedGroup {
  waMessageIds: string[];
  /** Each event's canonical JSON (its keys sorted), which is also the text stored. */
  eventJsons: string[];
  timestamps: Float64Array;
  /** 1 where the firm wrote the message. */
  outbound: Uint8Array;
  contentTypes: string[];
  /** A name per kind of event (content type, attachment, caption) for the import's self-check. */
  shapes: string[];
  /** Indexes of the events whose content has media (their attachment rows follow the insert). */
  withMedia: number[];
  /** File names the group's messages attach, whether or not the export holds them. */
  attachments: string[];
  /** Attachment lines of people (not system lines) whose file the export holds, and those it lacks. */
  mediaLinked: number;
  mediaMissing: number;
  /** Messages whose time a clock change made missing or double, with their lines, in file order. */
  clockChanges: Array<ClockChange & { line: number }>;
  /** The chain before the group as the links assume it, and each event's link (seqs follow on). */
  seqBefore: number;
  headBefore: string;
  links: string[];
}

export type ImportedEvent = Extract<InboundEvent, { kind: 'message' }>;

/** Turns a group of messages into their events; the same result on any thread. */
export class GroupPreparer {
  private readonly clock: WallClock;
  private readonly firm: Set<string>;
  private seq: number;
  private head: string;
  /** Where the message being read starts, and the group's clock changes: told by the clock. */
  private line = 0;
  private clockChanges: PreparedGroup['clockChanges'] = [];
  private readonly noteClockChange = (change: ClockChange) => {
    this.clockChanges.push({ ...change, line: this.line });
  };

  constructor(private readonly context: PrepareContext) {
    this.clock = new WallClock(context.timeZone);
    this.firm = new Set(context.firmAuthors);
    this.seq = context.chain.seq;
    this.head = context.chain.head;
  }

  prepare(messages: readonly ParsedMessage[]): PreparedGroup {
    const count = messages.length;
    const group: PreparedGroup = {
      waMessageIds: new Array<string>(count),
      eventJsons: new Array<string>(count),
      timestamps: new Float64Array(count),
      outbound: new Uint8Array(count),
      contentTypes: new Array<string>(count),
      shapes: new Array<string>(count),
      withMedia: [],
      attachments: [],
      mediaLinked: 0,
      mediaMissing: 0,
      clockChanges: [],
      seqBefore: this.seq,
      headBefore: this.head,
      links: new Array<string>(count),
    };
    this.clockChanges = group.clockChanges;
    const { chatKey } = this.context.chain;
    const receivedAt = this.context.receivedAt;
    for (let i = 0; i < count; i += 1) {
      const m = messages[i]!;
      const event = this.toEvent(m);
      const eventJson = JSON.stringify(event);
      this.seq += 1;
      this.head = importChainLink(this.head, chatKey, { seq: this.seq, waMessageId: event.waMessageId, direction: event.direction, timestamp: event.timestamp, receivedAt }, eventJson);
      group.links[i] = this.head;
      group.waMessageIds[i] = event.waMessageId;
      group.eventJsons[i] = eventJson;
      group.timestamps[i] = event.timestamp;
      group.outbound[i] = event.direction === 'outbound' ? 1 : 0;
      group.contentTypes[i] = event.content.type;
      const media = 'media' in event.content ? event.content.media : undefined;
      group.shapes[i] = `${event.content.type}${m.attachment ? '+file' : ''}${media?.caption !== undefined ? '+caption' : ''}`;
      if (media) group.withMedia.push(i);
      if (m.attachment) {
        group.attachments.push(m.attachment.fileName);
        if (m.author !== null) {
          if (this.context.media.has(m.attachment.fileName)) group.mediaLinked += 1;
          else group.mediaMissing += 1;
        }
      }
    }
    return group;
  }

  /**
   * The event of one exported message. Every object in it is built with its keys in sorted order,
   * so JSON.stringify of the event is its canonical JSON (core/chain.ts: sorted keys, nothing
   * undefined): the stored text and the chain link come from one serialization.
   */
  private toEvent(m: ParsedMessage): ImportedEvent {
    const { sourceSha256: sha, timeZone, party, media } = this.context;
    const stored = m.attachment ? media.get(m.attachment.fileName) : undefined;
    // Written out per case rather than with spreads: a million objects built with spreads cost
    // several times more.
    const raw = m.attachment
      ? { attachment: m.attachment, author: m.author, date: m.date, line: m.line, message: m.message, source: 'chat-export', sourceSha256: sha, timeZone }
      : { author: m.author, date: m.date, line: m.line, message: m.message, source: 'chat-export', sourceSha256: sha, timeZone };
    const content = toImportedContent(m, stored);
    this.line = m.line;
    const timestamp = this.clock.toInstant(m.date, this.noteClockChange);
    const waMessageId = importedMessageId(sha, m.line);
    const { business, client } = party;
    if (m.author === null) {
      return { business, channel: 'chat-export', client, content, direction: 'inbound', kind: 'message', raw, timestamp, versionKey: '', waMessageId };
    }
    const author = { id: m.author, name: m.author };
    const direction = this.firm.has(m.author) ? 'outbound' : 'inbound';
    return { author, business, channel: 'chat-export', client, content, direction, kind: 'message', raw, timestamp, versionKey: '', waMessageId };
  }
}

/**
 * chainLink(previous, canonicalRecord(chatKey, record with event)) of core/chain.ts for an imported
 * event (channel chat-export, kind message, no version key) whose JSON is canonical: the record's
 * keys written out in sorted order around the event's JSON, hashed in three pieces instead of
 * joined into one string first (the same bytes in the same order, without a copy of every event's
 * text).
 */
export function importChainLink(
  previous: string,
  chatKey: string,
  r: { seq: number; waMessageId: string; direction: string; timestamp: number; receivedAt: number },
  eventJson: string,
): string {
  const q = JSON.stringify;
  return createHash('sha256')
    .update(`wa-bridge-chain:v1\n${previous}\n{"channel":"chat-export","chatKey":${q(chatKey)},"direction":"${r.direction}","event":`)
    .update(eventJson)
    .update(`,"kind":"message","receivedAt":${r.receivedAt},"seq":${r.seq},"timestamp":${r.timestamp},"v":1,"versionKey":"","waMessageId":${q(r.waMessageId)}}`)
    .digest('hex');
}

/** Source file hash (its first 128 bits) and line: the same file always gives the same ids. */
export function importedMessageId(sourceSha256: string, line: number): string {
  return `export.${sourceSha256.slice(0, 32)}.${line}`;
}

/** The business and client parts every event of the import shares, keys sorted like toEvent's. */
export function partyOf(c: ConversationRecord): Pick<ImportedEvent, 'business' | 'client'> {
  return {
    business: { ...(c.businessDisplayNumber ? { displayNumber: c.businessDisplayNumber } : {}), id: c.businessId },
    client: { ...(c.clientName ? { name: c.clientName } : {}), ...(c.clientUserId ? { userId: c.clientUserId } : {}), ...(c.clientWaId ? { waId: c.clientWaId } : {}) },
  };
}

/**
 * The prepared groups of an export read here, skipping its first `skip` messages (those a thread
 * prepared before it failed).
 */
export async function* prepareHere(messages: AsyncIterable<ParsedMessage[]>, context: PrepareContext, skip = 0): AsyncGenerator<PreparedGroup> {
  const preparer = new GroupPreparer(context);
  let group: ParsedMessage[] = [];
  let skipped = 0;
  for await (const batch of messages) {
    for (const m of batch) {
      if (skipped < skip) {
        skipped += 1;
        continue;
      }
      group.push(m);
      if (group.length >= GROUP_SIZE) {
        yield preparer.prepare(group);
        group = [];
      }
    }
  }
  if (group.length > 0) yield preparer.prepare(group);
}
