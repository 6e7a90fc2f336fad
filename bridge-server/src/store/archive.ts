import { sql, type Generated, type Kysely, type Selectable } from 'kysely';
import type { EventRecord } from '../core/records.js';
import { matterPeriods, type Period } from '../core/matters.js';
import { toEvent } from './events.js';
import type { Executor } from './executor.js';
import type { EventsTable } from './schema.js';

/**
 * Reads for checking the archive (`wa-bridge verify`) and writes of signed checkpoints. Reads
 * take rows as they are on disk: nothing here trusts that the rows are well formed, because
 * finding out whether they are is the point.
 */

export interface CheckpointsTable {
  id: Generated<number>;
  created_at: number;
  reason: string;
  heads_json: string;
  heads_sha256: string;
  previous_sha256: string;
  public_key: string;
  signature: string;
}

type WithCheckpoints = Kysely<{ checkpoints: CheckpointsTable }>;
const checkpointsOf = (db: Executor): WithCheckpoints => db.withTables<{ checkpoints: CheckpointsTable }>() as unknown as WithCheckpoints;

export interface CheckpointRow {
  id: number;
  createdAt: number;
  reason: string;
  headsJson: string;
  headsSha256: string;
  previousSha256: string;
  publicKey: string;
  signature: string;
}

export async function insertCheckpoint(db: Executor, row: Omit<CheckpointRow, 'id'>): Promise<number> {
  const inserted = await checkpointsOf(db)
    .insertInto('checkpoints')
    .values({
      created_at: row.createdAt,
      reason: row.reason,
      heads_json: row.headsJson,
      heads_sha256: row.headsSha256,
      previous_sha256: row.previousSha256,
      public_key: row.publicKey,
      signature: row.signature,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}

function toCheckpoint(row: Selectable<CheckpointsTable>): CheckpointRow {
  return {
    id: row.id,
    createdAt: row.created_at,
    reason: row.reason,
    headsJson: row.heads_json,
    headsSha256: row.heads_sha256,
    previousSha256: row.previous_sha256,
    publicKey: row.public_key,
    signature: row.signature,
  };
}

/** Every checkpoint, oldest first. */
export async function listCheckpoints(db: Executor): Promise<CheckpointRow[]> {
  return (await checkpointsOf(db).selectFrom('checkpoints').selectAll().orderBy('id').execute()).map(toCheckpoint);
}

export async function latestCheckpoint(db: Executor): Promise<CheckpointRow | undefined> {
  const row = await checkpointsOf(db).selectFrom('checkpoints').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? toCheckpoint(row) : undefined;
}

export interface ConversationHeadRow {
  id: number;
  /** The chat id of the mails (X-WhatsApp-Chat-Id), by which commands name a conversation. */
  chatId: string;
  chatKey: string;
  lastSeq: number;
  chainHead: string;
}

export async function listConversationHeads(db: Executor): Promise<ConversationHeadRow[]> {
  const rows = await db.selectFrom('conversations').select(['id', 'chat_token', 'chat_key', 'last_seq', 'chain_head']).orderBy('id').execute();
  return rows.map((row) => ({ id: row.id, chatId: row.chat_token, chatKey: row.chat_key, lastSeq: row.last_seq, chainHead: row.chain_head }));
}

/** A stored event as it is on disk; `event` is the parsed JSON, or the raw text when it no longer parses. */
export type ScannedEvent = EventRecord & { conversationId: number };

/** An events row as an EventRecord; event_json that no longer parses comes back as its raw text. */
export function toScanned(row: Selectable<EventsTable>): ScannedEvent {
  try {
    return toEvent(row);
  } catch {
    // Stored JSON that no longer parses is kept as its text, so the chain check can name it.
    return toEvent({ ...row, event_json: JSON.stringify(row.event_json) });
  }
}

/**
 * Every event in (conversation, seq) order, streamed so a large archive is never held in
 * memory. The stream holds the connection: run no other query until it has finished.
 */
export async function* scanEvents(db: Executor, chunkSize = 2000): AsyncGenerator<ScannedEvent> {
  for await (const row of db.selectFrom('events').selectAll().orderBy('conversation_id').orderBy('seq').stream(chunkSize)) yield toScanned(row);
}

/** One conversation's events in seq order, a page at a time (no stream holds the connection between pages). */
export async function* scanConversationEvents(db: Executor, conversationId: number, pageSize = 2000): AsyncGenerator<ScannedEvent> {
  let after = -1;
  for (;;) {
    const rows = await db.selectFrom('events').selectAll().where('conversation_id', '=', conversationId).where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
    for (const row of rows) yield toScanned(row);
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}

/**
 * Every blob row in hash order, a page at a time. Not one streamed query, which would hold
 * SQLite's only connection: the caller reads each blob through the store, and a blob kept in its
 * row is read from the database.
 */
export async function* scanBlobs(db: Executor, chunkSize = 2000): AsyncGenerator<{ sha256: string; size: number }> {
  let after = '';
  for (;;) {
    const page = await db.selectFrom('blobs').select(['sha256', 'size']).where('sha256', '>', after).orderBy('sha256').limit(chunkSize).execute();
    yield* page;
    if (page.length < chunkSize) return;
    after = page.at(-1)!.sha256;
  }
}

/** Stored hashes that name a blob the blob table no longer lists: media and relayed mail. */
export async function listDanglingBlobRefs(db: Executor): Promise<Array<{ what: 'attachment' | 'mail'; id: number; sha256: string }>> {
  const attachments = await db
    .selectFrom('attachments')
    .leftJoin('blobs', 'blobs.sha256', 'attachments.sha256')
    .select(['attachments.id as id', 'attachments.sha256 as sha256'])
    .where('attachments.sha256', 'is not', null)
    .where('blobs.sha256', 'is', null)
    .execute();
  const mails = await db
    .selectFrom('mail_relays')
    .leftJoin('blobs', 'blobs.sha256', 'mail_relays.raw_sha256')
    .select(['mail_relays.id as id', 'mail_relays.raw_sha256 as sha256'])
    .where('blobs.sha256', 'is', null)
    .execute();
  return [
    ...attachments.map((row) => ({ what: 'attachment' as const, id: row.id, sha256: row.sha256 ?? '' })),
    ...mails.map((row) => ({ what: 'mail' as const, id: row.id, sha256: row.sha256 })),
  ];
}

/** Events whose conversation row is gone (only possible with foreign keys switched off). */
export async function countOrphanEvents(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('events')
    .leftJoin('conversations', 'conversations.id', 'events.conversation_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('conversations.id', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A conversation's events in seq order, those with WhatsApp times in [from, to) when given. */
export async function listEventsForExport(db: Executor, conversationId: number, range: { from?: number; to?: number }): Promise<ScannedEvent[]> {
  let query = db.selectFrom('events').selectAll().where('conversation_id', '=', conversationId);
  if (range.from !== undefined) query = query.where('wa_timestamp', '>=', range.from);
  if (range.to !== undefined) query = query.where('wa_timestamp', '<', range.to);
  return (await query.orderBy('seq').execute()).map(toScanned);
}

/** The chain link of the event before `seq` ('' before the first): where a partial export's chain starts. */
export async function chainLinkBefore(db: Executor, conversationId: number, seq: number): Promise<string> {
  const row = await db.selectFrom('events').select('chain_sha256').where('conversation_id', '=', conversationId).where('seq', '=', seq - 1).executeTakeFirst();
  return row?.chain_sha256 ?? '';
}

/** Every conversation a matter was ever linked to, by chat id; undefined when there is no such matter. */
export async function conversationsOfMatter(db: Executor, reference: string): Promise<string[] | undefined> {
  const matter = await db.selectFrom('matters').select('id').where('reference', '=', reference).executeTakeFirst();
  if (!matter) return undefined;
  const rows = await db
    .selectFrom('matter_links')
    .innerJoin('conversations', 'conversations.id', 'matter_links.conversation_id')
    .select('conversations.chat_token')
    .distinct()
    .where('matter_links.matter_id', '=', matter.id)
    .orderBy('conversations.chat_token')
    .execute();
  return rows.map((row) => row.chat_token);
}

/**
 * When each of a matter's conversations belonged to it (see matterPeriods), by conversation id;
 * undefined when there is no such matter.
 */
export async function matterPeriodsByConversation(db: Executor, reference: string): Promise<Map<number, Period[]> | undefined> {
  const matter = await db.selectFrom('matters').select('id').where('reference', '=', reference).executeTakeFirst();
  if (!matter) return undefined;
  const rows = await db
    .selectFrom('matter_links')
    .select(['conversation_id', 'matter_id', 'linked_at', 'unlinked_at'])
    .where('conversation_id', 'in', db.selectFrom('matter_links').select('conversation_id').where('matter_id', '=', matter.id))
    .execute();
  const links = new Map<number, Array<{ matterId: number; linkedAt: number; unlinkedAt: number | null }>>();
  for (const row of rows) {
    const list = links.get(Number(row.conversation_id)) ?? [];
    list.push({ matterId: Number(row.matter_id), linkedAt: Number(row.linked_at), unlinkedAt: row.unlinked_at === null ? null : Number(row.unlinked_at) });
    links.set(Number(row.conversation_id), list);
  }
  return new Map([...links].map(([conversationId, list]) => [conversationId, matterPeriods(list, matter.id)]));
}

/** One chat-export import into a conversation, as its record keeps it. */
export interface ImportSummary {
  sourceName: string;
  sourceSha256: string;
  timeZone: string;
  importedBy: string;
  startedAt: number;
  state: string;
  added: number;
}

/** The conversation's imports of chat-export files, oldest first. */
export async function importsOfConversation(db: Executor, conversationId: number): Promise<ImportSummary[]> {
  const result = await sql<{ source_name: string; source_sha256: string; time_zone: string; imported_by: string; started_at: number | string; state: string; added: number | string }>`
    SELECT source_name, source_sha256, time_zone, imported_by, started_at, state, added FROM imports WHERE conversation_id = ${conversationId} ORDER BY id`.execute(db);
  return result.rows.map((row) => ({
    sourceName: row.source_name,
    sourceSha256: row.source_sha256,
    timeZone: row.time_zone,
    importedBy: row.imported_by,
    startedAt: Number(row.started_at),
    state: row.state,
    added: Number(row.added),
  }));
}
