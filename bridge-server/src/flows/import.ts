import type { ChatMessage, DateOrder, ParsedMessage } from '@wa-bridge/shared/chat-export';
import type { InboundEvent } from '../core/events.js';
import { makeChatKey, makeChatToken, sha256 } from '../core/ids.js';
import type { ImportCounts, ImportStore } from '../core/imports.js';
import type { BlobStore } from '../core/ports.js';
import type { ConversationRecord } from '../core/records.js';
import { makeSubject } from '../core/threading.js';
import type { WallClock } from '../core/wall-time.js';
import { appendEvent, type IngestDeps } from './ingest.js';
import { toImportedContent } from './import-content.js';

export interface ImportDeps extends IngestDeps {
  imports: ImportStore;
  blobs: BlobStore;
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
  let group: ParsedMessage[] = [];
  const flush = async () => {
    if (group.length === 0) return;
    const messages = group;
    group = [];
    await storeMedia(deps.blobs, reader, messages, scan);
    await store.transaction(async (tx) => {
      // Re-read: a live message may have moved the chain head since the last group.
      let conversation = (await store.lockConversation(tx, plan.conversation.id)) ?? plan.conversation;
      const events = messages.map((m) => toEvent(plan, firm, m, scan));
      // One lookup for the group instead of one per message; the unique key still guards each insert.
      const existing = await imports.existingMessageIds(tx, 'chat-export', events.map((e) => e.waMessageId));
      for (const [i, m] of messages.entries()) {
        const event = events[i]!;
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
        conversation = (await appendEvent(deps, tx, conversation, event, { relay: plan.mirror, advance: false })).conversation;
        counts.added += 1;
      }
      // The group's events are chained in memory; the head is stored once, in the same transaction.
      await store.advanceConversation(tx, conversation.id, conversation.lastSeq, conversation.chainHead);
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

function toEvent(plan: ImportPlan, firm: Set<string>, m: ParsedMessage, scan: ExportScan): InboundEvent {
  const c = plan.conversation;
  const stored = m.attachment ? scan.media.get(m.attachment.fileName) : undefined;
  return {
    kind: 'message',
    channel: 'chat-export',
    business: { id: c.businessId, ...(c.businessDisplayNumber ? { displayNumber: c.businessDisplayNumber } : {}) },
    client: { ...(c.clientWaId ? { waId: c.clientWaId } : {}), ...(c.clientUserId ? { userId: c.clientUserId } : {}), ...(c.clientName ? { name: c.clientName } : {}) },
    // Source file hash (its first 128 bits) and line: the same file always gives the same ids.
    waMessageId: `export.${plan.source.sha256.slice(0, 32)}.${m.line}`,
    versionKey: '',
    timestamp: plan.clock.toInstant(m.date),
    direction: m.author !== null && firm.has(m.author) ? 'outbound' : 'inbound',
    ...(m.author !== null ? { author: { id: m.author, name: m.author } } : {}),
    content: toImportedContent(m, stored),
    raw: {
      source: 'chat-export',
      sourceSha256: plan.source.sha256,
      line: m.line,
      date: m.date,
      timeZone: plan.clock.timeZone,
      author: m.author,
      message: m.message,
      ...(m.attachment ? { attachment: m.attachment } : {}),
    },
  };
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
