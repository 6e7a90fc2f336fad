import type { DateOrder, ParsedMessage } from '@wa-bridge/shared/chat-export';
import { makeChatKey, makeChatToken, sha256 } from '../core/ids.js';
import type { ImportCounts, ImportedEventRow, ImportStore } from '../core/imports.js';
import type { BlobStore, Tx } from '../core/ports.js';
import type { ConversationRecord } from '../core/records.js';
import { makeSubject } from '../core/threading.js';
import { CLOCK_CHANGES_WORDED, clockChangeWarnings, type ClockChangeSummary, type WallClock } from '../core/wall-time.js';
import { canonicalRecord, chainLink } from '../core/chain.js';
import type { IngestDeps } from './ingest.js';
import { importChainLink, partyOf, prepareHere, type ImportedEvent, type PrepareContext, type PreparedGroup } from './import-prepare.js';

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
  /** Messages whose time does not exist in the plan's zone or exists twice there, and how each was read. */
  clockChanges: ClockChangeSummary;
  /** What the person importing should be told, a line each (core/wall-time.ts clockChangeWarnings). */
  warnings: string[];
}

const MAX_AUTHORS = 1000;

/**
 * Where an import's events are built: by default here, from the reader; the command hands the
 * work to a thread (channels/chat-export/import-thread.ts) so this one only chains and stores.
 */
export type PrepareGroups = (context: PrepareContext) => AsyncIterable<PreparedGroup>;

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
 * live message (so each gets its chain link), a transaction per group of messages (GROUP_SIZE:
 * long enough to amortise each commit, short enough that live messages written beside an import
 * wait little for the lock). Ids come from the source file's hash and each message's
 * line, so importing the same file again adds nothing. The import row is written first and
 * completed last: an interrupted import stays visible as 'running'.
 */
export async function importExport(
  deps: ImportDeps,
  plan: ImportPlan,
  reader: ExportReader,
  scan: ExportScan,
  onProgress: (done: number) => void = () => {},
  prepare?: PrepareGroups,
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
  const clockChanges: ClockChangeSummary = { total: 0, gaps: 0, overlaps: 0, first: [] };
  const start = (await store.read((tx) => store.getConversation(tx, plan.conversation.id))) ?? plan.conversation;
  const context: PrepareContext = {
    sourceSha256: plan.source.sha256,
    timeZone: plan.clock.timeZone,
    party: partyOf(plan.conversation),
    firmAuthors: plan.firmAuthors,
    media: scan.media,
    receivedAt: deps.clock.now(),
    chain: { chatKey: start.chatKey, seq: start.lastSeq, head: start.chainHead },
  };
  const groups = prepare ? prepare(context) : prepareHere(reader.messages(), context);
  for await (const group of groups) {
    const count = group.waMessageIds.length;
    await storeMedia(deps.blobs, reader, group.attachments, scan);
    await store.transaction(async (tx) => {
      // Re-read: a live message may have moved the chain head since the last group.
      const conversation = (await store.getConversation(tx, plan.conversation.id)) ?? plan.conversation;
      // One lookup for the group instead of one per message; the unique key still guards each insert.
      const existing = await imports.existingMessageIds(tx, 'chat-export', group.waMessageIds);
      // The group was chained as it was built, each link over the one before exactly as
      // appendEvent (flows/ingest.ts) links a live event, from where the chain stood before it
      // if nothing came between. Otherwise (a live message, or messages stored before) the
      // links are made again here over the chain as it is.
      const { receivedAt } = context;
      const asBuilt = existing.size === 0 && conversation.lastSeq === group.seqBefore && conversation.chainHead === group.headBefore;
      const rows: ImportedEventRow[] = [];
      const media: number[] = [];
      let seq = conversation.lastSeq;
      let head = conversation.chainHead;
      const checked = new Set<string>();
      let nextMedia = 0;
      for (let i = 0; i < count; i += 1) {
        const withMedia = group.withMedia[nextMedia] === i;
        if (withMedia) nextMedia += 1;
        const waMessageId = group.waMessageIds[i]!;
        if (existing.has(waMessageId)) {
          counts.duplicates += 1;
          continue;
        }
        seq += 1;
        const direction = group.outbound[i] === 1 ? ('outbound' as const) : ('inbound' as const);
        const record = { seq, channel: 'chat-export' as const, waMessageId, kind: 'message' as const, versionKey: '', direction, timestamp: group.timestamps[i]!, receivedAt };
        const eventJson = group.eventJsons[i]!;
        const link = asBuilt ? group.links[i]! : importChainLink(head, conversation.chatKey, record, eventJson);
        // The event's JSON is its canonical JSON by construction (import-prepare.ts). The first
        // event of each shape in a group is held to the chain's own definition (core/chain.ts), so
        // a change to how events are built can never store links that verify would reject.
        const shape = group.shapes[i]!;
        if (!checked.has(shape)) {
          checked.add(shape);
          const event = JSON.parse(eventJson) as ImportedEvent;
          if (event.waMessageId !== waMessageId || event.direction !== direction || event.timestamp !== record.timestamp || event.content.type !== group.contentTypes[i]) {
            throw new Error('an imported event does not match its row');
          }
          if (chainLink(head, canonicalRecord(conversation.chatKey, { ...record, event })) !== link) throw new Error('an imported event is not in canonical form; its chain link would not verify');
        }
        head = link;
        if (withMedia) media.push(rows.length);
        rows.push({ seq, channel: record.channel, waMessageId, kind: record.kind, versionKey: record.versionKey, direction, contentType: group.contentTypes[i]!, timestamp: record.timestamp, eventJson, chainHash: head, receivedAt });
        counts.added += 1;
      }
      if (rows.length === 0) return;
      const ids = await imports.insertEvents(tx, conversation.id, rows);
      // What appendEvent adds beside the row: the media reference, and with mirroring the relay job.
      for (const index of media) {
        const event = JSON.parse(rows[index]!.eventJson) as ImportedEvent;
        const described = 'media' in event.content ? event.content.media : undefined;
        if (described?.storedSha256 === undefined) continue;
        const attachment = await store.insertAttachment(tx, { eventId: ids[index]!, ordinal: 0, waMediaId: described.waMediaId, mimeType: described.mimeType, fileName: described.fileName ?? null, announcedSha256: described.sha256 ?? null });
        await store.setAttachmentBlob(tx, attachment.id, described.storedSha256, described.storedSize ?? 0);
      }
      if (plan.mirror) {
        for (let index = 0; index < rows.length; index += 1) {
          await store.enqueue(tx, { kind: 'mail.relay', payload: { conversationId: conversation.id, eventId: ids[index]! }, conversationId: conversation.id, sortKey: rows[index]!.seq });
        }
      }
      await store.advanceConversation(tx, conversation.id, seq, head);
    });
    // Counted once the group is stored, so a failed transaction retried by nobody counts nothing twice.
    counts.messages += count;
    counts.mediaLinked += group.mediaLinked;
    counts.mediaMissing += group.mediaMissing;
    for (const change of group.clockChanges) {
      clockChanges.total += 1;
      if (change.kind === 'gap') clockChanges.gaps += 1;
      else clockChanges.overlaps += 1;
      if (clockChanges.first.length < CLOCK_CHANGES_WORDED) clockChanges.first.push(change);
    }
    for (let i = 0; i < count; i += 1) {
      const t = group.timestamps[i]!;
      if (counts.firstMessageAt === null || t < counts.firstMessageAt) counts.firstMessageAt = t;
      if (counts.lastMessageAt === null || t > counts.lastMessageAt) counts.lastMessageAt = t;
    }
    onProgress(counts.messages);
  }
  await store.transaction((tx) => imports.finishImport(tx, importId, counts, deps.clock.now()));
  return { importId, ...counts, clockChanges, warnings: clockChangeWarnings(clockChanges, plan.clock.timeZone) };
}

/** Puts the media files a group of messages names into the blob store (content-addressed, so repeats cost nothing). */
async function storeMedia(blobs: BlobStore, reader: ExportReader, names: readonly string[], scan: ExportScan): Promise<void> {
  for (const name of names) {
    const expected = scan.media.get(name);
    if (!expected || (await blobs.has(expected.sha256))) continue;
    const bytes = await reader.readMedia(name);
    if (!bytes) continue;
    const stored = await blobs.put(bytes);
    // The zip was read once in the scan; different bytes now would mean the file changed under us.
    if (stored !== expected.sha256) throw new Error(`${name} changed while it was being imported`);
  }
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
