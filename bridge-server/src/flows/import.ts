import { createHash } from 'node:crypto';
import type { ChatMessage, DateOrder, ParsedMessage } from '@wa-bridge/shared/chat-export';
import type { InboundEvent } from '../core/events.js';
import { makeChatKey, makeChatToken, sha256 } from '../core/ids.js';
import type { ImportCounts, ImportedEventRow, ImportStore } from '../core/imports.js';
import type { BlobStore, Tx } from '../core/ports.js';
import type { ConversationRecord } from '../core/records.js';
import { makeSubject } from '../core/threading.js';
import type { WallClock } from '../core/wall-time.js';
import { canonicalRecord, chainLink } from '../core/chain.js';
import type { IngestDeps } from './ingest.js';
import { toImportedContent } from './import-content.js';

export interface ImportDeps extends IngestDeps {
  imports: ImportEventStore;
  blobs: BlobStore;
}

/** The import's store: its evidence rows, and a group of events of one conversation in one go. */
export interface ImportEventStore extends ImportStore {
  /** Stores the rows (consecutive seqs of one conversation) and returns their ids in order. */
  insertEvents(tx: Tx, conversationId: number, rows: readonly ImportedEventRow[]): Promise<number[]>;
}

/** An export opened for reading: its messages can be read again from the start. */
export interface ExportReader {
  messages(): AsyncIterable<ParsedMessage[]>;
  /** The bytes of a media file of the export, or undefined when it has none of that name. */
  readMedia(name: string): Promise<Uint8Array | undefined>;
  mediaNames(): string[];
}

/** What a full read of an export showed, before anything is stored. */
export interface ExportScan {
  messages: number;
  /** Message count per author (system messages not counted). */
  authors: Map<string, number>;
  /** Media files the messages name and the export holds: their SHA-256 and size. */
  media: Map<string, { sha256: string; size: number }>;
}

export interface ImportPlan {
  conversation: ConversationRecord;
  source: { name: string; sha256: string; size: number; kind: 'txt' | 'zip' };
  clock: WallClock;
  dateOrder: DateOrder;
  /** Authors who are the firm: their messages are outbound; everyone else's inbound. */
  firmAuthors: string[];
  importedBy: string;
  /** Queue a mail per message (default off: the archive only). */
  mirror: boolean;
}

export interface ImportResult extends ImportCounts {
  importId: number;
}

const MAX_AUTHORS = 1000;
// Long enough to amortise each commit, short enough (well under a second) that live messages
// written beside an import wait little for the lock.
const TRANSACTION_SIZE = 2000;

/**
 * The validation pass: reads every message and every media file they name, and stores nothing.
 * Any parse error or damaged media entry surfaces here, so a bad file is refused before the
 * first row is written.
 */
export async function scanExport(reader: ExportReader): Promise<ExportScan> {
  const available = new Set(reader.mediaNames());
  const scan: ExportScan = { messages: 0, authors: new Map(), media: new Map() };
  const wanted = new Set<string>();
  for await (const batch of reader.messages()) {
    for (const m of batch) {
      scan.messages += 1;
      if (m.author !== null && (scan.authors.has(m.author) || scan.authors.size < MAX_AUTHORS)) scan.authors.set(m.author, (scan.authors.get(m.author) ?? 0) + 1);
      const name = m.attachment?.fileName;
      if (name !== undefined && available.has(name)) wanted.add(name);
    }
  }
  for (const name of wanted) {
    const bytes = await reader.readMedia(name);
    if (bytes) scan.media.set(name, { sha256: sha256(bytes).toString('hex'), size: bytes.length });
  }
  return scan;
}

/**
 * Stores a scanned export as events of the plan's conversation, through appendEvent like every
 * live message (so each gets its chain link), in transactions of 2000 messages so live traffic
 * keeps flowing beside a long import. Ids come from the source file's hash and each message's
 * line, so importing the same file again adds nothing. The import row is written first and
 * completed last: an interrupted import stays visible as 'running'.
 */
export async function importExport(
  deps: ImportDeps,
  plan: ImportPlan,
  reader: ExportReader,
  scan: ExportScan,
  onProgress: (done: number) => void = () => {},
): Promise<ImportResult> {
  const { store, imports } = deps;
  const importId = await store.transaction((tx) =>
    imports.beginImport(tx, {
      conversationId: plan.conversation.id,
      sourceSha256: plan.source.sha256,
      sourceName: plan.source.name,
      sourceSize: plan.source.size,
      sourceKind: plan.source.kind,
      timeZone: plan.clock.timeZone,
      dateOrder: plan.dateOrder,
      firmAuthors: plan.firmAuthors,
      importedBy: plan.importedBy,
      mirrored: plan.mirror,
      startedAt: deps.clock.now(),
    }),
  );
  const counts: ImportCounts = { messages: 0, added: 0, duplicates: 0, mediaLinked: 0, mediaMissing: 0, firstMessageAt: null, lastMessageAt: null };
  const firm = new Set(plan.firmAuthors);
  const party = partyOf(plan.conversation);
  let group: ParsedMessage[] = [];
  const flush = async () => {
    if (group.length === 0) return;
    const messages = group;
    group = [];
    await storeMedia(deps.blobs, reader, messages, scan);
    await store.transaction(async (tx) => {
      // Re-read: a live message may have moved the chain head since the last group.
      const conversation = (await store.getConversation(tx, plan.conversation.id)) ?? plan.conversation;
      // One lookup for the group instead of one per message; the unique key still guards each insert.
      const existing = await imports.existingMessageIds(tx, 'chat-export', messages.map((m) => messageIdOf(plan, m)));
      // The group is chained in memory, each link over the one before exactly as appendEvent
      // (flows/ingest.ts) links a live event, then stored in one go and the head moved once.
      // Each event becomes its row at once and is dropped (kept only when media or a mail need
      // it after the insert): a group's events alive together cost more in garbage collection
      // than building them.
      const receivedAt = deps.clock.now();
      const rows: ImportedEventRow[] = [];
      const after: Array<{ index: number; event: ImportedEvent }> = [];
      let seq = conversation.lastSeq;
      let head = conversation.chainHead;
      const checked = new Set<string>();
      for (const m of messages) {
        const event = toEvent(plan, party, firm, m, scan);
        counts.messages += 1;
        counts.firstMessageAt = counts.firstMessageAt === null ? event.timestamp : Math.min(counts.firstMessageAt, event.timestamp);
        counts.lastMessageAt = counts.lastMessageAt === null ? event.timestamp : Math.max(counts.lastMessageAt, event.timestamp);
        if (m.attachment && m.author !== null) {
          if (scan.media.has(m.attachment.fileName)) counts.mediaLinked += 1;
          else counts.mediaMissing += 1;
        }
        if (existing.has(event.waMessageId)) {
          counts.duplicates += 1;
          continue;
        }
        seq += 1;
        const record = { seq, channel: event.channel, waMessageId: event.waMessageId, kind: event.kind, versionKey: event.versionKey, direction: event.direction, timestamp: event.timestamp, receivedAt };
        const eventJson = JSON.stringify(event);
        const link = importChainLink(head, conversation.chatKey, record, eventJson);
        // toEvent's sorted keys make the event's JSON its canonical JSON. The first event of each
        // shape in a group is held to the chain's own definition (core/chain.ts), so a change to
        // how events are built can never store links that verify would reject.
        const shape = `${event.content.type}${m.attachment ? '+file' : ''}${'media' in event.content && event.content.media.caption !== undefined ? '+caption' : ''}`;
        if (!checked.has(shape)) {
          checked.add(shape);
          if (chainLink(head, canonicalRecord(conversation.chatKey, { ...record, event })) !== link) throw new Error('an imported event is not in canonical form; its chain link would not verify');
        }
        head = link;
        if (plan.mirror || 'media' in event.content) after.push({ index: rows.length, event });
        rows.push({ seq, channel: record.channel, waMessageId: record.waMessageId, kind: record.kind, versionKey: record.versionKey, direction: record.direction, contentType: event.content.type, timestamp: record.timestamp, eventJson, chainHash: head, receivedAt });
        counts.added += 1;
      }
      if (rows.length === 0) return;
      const ids = await imports.insertEvents(tx, conversation.id, rows);
      // What appendEvent adds beside the row: the media reference, and with mirroring the relay job.
      for (const { index, event } of after) {
        const eventId = ids[index]!;
        const media = 'media' in event.content ? event.content.media : undefined;
        if (media?.storedSha256 !== undefined) {
          const attachment = await store.insertAttachment(tx, { eventId, ordinal: 0, waMediaId: media.waMediaId, mimeType: media.mimeType, fileName: media.fileName ?? null, announcedSha256: media.sha256 ?? null });
          await store.setAttachmentBlob(tx, attachment.id, media.storedSha256, media.storedSize ?? 0);
        }
        if (plan.mirror) await store.enqueue(tx, { kind: 'mail.relay', payload: { conversationId: conversation.id, eventId }, conversationId: conversation.id, sortKey: rows[index]!.seq });
      }
      await store.advanceConversation(tx, conversation.id, seq, head);
    });
    onProgress(counts.messages);
  };
  for await (const batch of reader.messages()) {
    for (const m of batch) {
      group.push(m);
      if (group.length >= TRANSACTION_SIZE) await flush();
    }
  }
  await flush();
  await store.transaction((tx) => imports.finishImport(tx, importId, counts, deps.clock.now()));
  return { importId, ...counts };
}

/** Puts the media files a group of messages names into the blob store (content-addressed, so repeats cost nothing). */
async function storeMedia(blobs: BlobStore, reader: ExportReader, messages: ChatMessage[], scan: ExportScan): Promise<void> {
  for (const m of messages) {
    const name = m.attachment?.fileName;
    const expected = name === undefined ? undefined : scan.media.get(name);
    if (name === undefined || !expected || (await blobs.has(expected.sha256))) continue;
    const bytes = await reader.readMedia(name);
    if (!bytes) continue;
    const stored = await blobs.put(bytes);
    // The zip was read once in the scan; different bytes now would mean the file changed under us.
    if (stored !== expected.sha256) throw new Error(`${name} changed while it was being imported`);
  }
}

type ImportedEvent = Extract<InboundEvent, { kind: 'message' }>;

/**
 * The event of one exported message. Every object in it is built with its keys in sorted order,
 * so JSON.stringify of the event is its canonical JSON (core/chain.ts: sorted keys, nothing
 * undefined): the stored text and the chain link come from one serialization.
 */
function toEvent(plan: ImportPlan, party: Pick<ImportedEvent, 'business' | 'client'>, firm: Set<string>, m: ParsedMessage, scan: ExportScan): ImportedEvent {
  const stored = m.attachment ? scan.media.get(m.attachment.fileName) : undefined;
  const sha = plan.source.sha256;
  // Written out per case rather than with spreads: a million objects built with spreads cost
  // several times more.
  const raw = m.attachment
    ? { attachment: m.attachment, author: m.author, date: m.date, line: m.line, message: m.message, source: 'chat-export', sourceSha256: sha, timeZone: plan.clock.timeZone }
    : { author: m.author, date: m.date, line: m.line, message: m.message, source: 'chat-export', sourceSha256: sha, timeZone: plan.clock.timeZone };
  const content = toImportedContent(m, stored);
  const timestamp = plan.clock.toInstant(m.date);
  const waMessageId = messageIdOf(plan, m);
  const { business, client } = party;
  if (m.author === null) {
    return { business, channel: 'chat-export', client, content, direction: 'inbound', kind: 'message', raw, timestamp, versionKey: '', waMessageId };
  }
  const author = { id: m.author, name: m.author };
  const direction = firm.has(m.author) ? 'outbound' : 'inbound';
  return { author, business, channel: 'chat-export', client, content, direction, kind: 'message', raw, timestamp, versionKey: '', waMessageId };
}

/** Source file hash (its first 128 bits) and line: the same file always gives the same ids. */
function messageIdOf(plan: ImportPlan, m: ParsedMessage): string {
  return `export.${plan.source.sha256.slice(0, 32)}.${m.line}`;
}

/** The business and client parts every event of the import shares, keys sorted like toEvent's. */
function partyOf(c: ConversationRecord): Pick<ImportedEvent, 'business' | 'client'> {
  return {
    business: { ...(c.businessDisplayNumber ? { displayNumber: c.businessDisplayNumber } : {}), id: c.businessId },
    client: { ...(c.clientName ? { name: c.clientName } : {}), ...(c.clientUserId ? { userId: c.clientUserId } : {}), ...(c.clientWaId ? { waId: c.clientWaId } : {}) },
  };
}

/**
 * chainLink(previous, canonicalRecord(chatKey, record with event)) of core/chain.ts for an imported
 * event whose JSON is canonical: the record's keys written out in sorted order around the event's
 * JSON, hashed in three pieces instead of joined into one string first (the same bytes in the
 * same order, without a copy of every event's text).
 */
function importChainLink(
  previous: string,
  chatKey: string,
  r: { seq: number; channel: string; waMessageId: string; kind: string; versionKey: string; direction: string; timestamp: number; receivedAt: number },
  eventJson: string,
): string {
  const q = JSON.stringify;
  return createHash('sha256')
    .update(`wa-bridge-chain:v1\n${previous}\n{"channel":${q(r.channel)},"chatKey":${q(chatKey)},"direction":${q(r.direction)},"event":`)
    .update(eventJson)
    .update(`,"kind":${q(r.kind)},"receivedAt":${r.receivedAt},"seq":${r.seq},"timestamp":${r.timestamp},"v":1,"versionKey":${q(r.versionKey)},"waMessageId":${q(r.waMessageId)}}`)
    .digest('hex');
}

/**
 * A conversation for an export whose client has none yet: channel 'chat-export', keyed by the
 * client's number. With `mirror` it queues the cover mail that roots the thread, as first contact
 * on a live channel does.
 */
export async function openImportConversation(
  deps: IngestDeps,
  input: { businessId: string; clientWaId: string; clientName: string | null; openedAt: number; mirror: boolean },
): Promise<ConversationRecord> {
  return deps.store.transaction(async (tx) => {
    const lookup = { tenant: deps.tenant, channel: 'chat-export' as const, businessId: input.businessId, waId: input.clientWaId };
    const found = await deps.store.findConversation(tx, lookup);
    if (found) return found;
    const chatKey = makeChatKey(input.businessId, input.clientWaId);
    const chatToken = makeChatToken(deps.tenant, 'chat-export', chatKey);
    const conversation = await deps.store.createConversation(tx, {
      tenant: deps.tenant,
      channel: 'chat-export',
      chatKey,
      chatToken,
      businessId: input.businessId,
      businessDisplayNumber: null,
      clientWaId: input.clientWaId,
      clientUserId: null,
      clientName: input.clientName,
      subject: makeSubject({ clientName: input.clientName, clientWaId: input.clientWaId, clientUserId: null, chatToken }),
      openedAt: input.openedAt,
      createdAt: deps.clock.now(),
    });
    if (input.mirror) await deps.store.enqueue(tx, { kind: 'mail.relay', payload: { conversationId: conversation.id, eventId: null }, conversationId: conversation.id, sortKey: 0 });
    return conversation;
  });
}
