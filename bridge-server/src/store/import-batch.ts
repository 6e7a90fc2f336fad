import { CompiledQuery, SqliteAdapter, sql } from 'kysely';
import type { ImportedEventRow } from '../core/imports.js';
import type { Executor } from './executor.js';

const columns = ['id', 'conversation_id', 'seq', 'tenant', 'channel', 'wa_message_id', 'kind', 'version_key', 'direction', 'content_type', 'wa_timestamp', 'event_json', 'chain_sha256', 'received_at'] as const;

/** Rows per SQLite statement: 500 × 14 values stays far below SQLite's 32,766 bound parameters. */
const SQLITE_ROWS = 500;

/**
 * Stores a group of events of one conversation, in the order given, and returns their ids in that
 * order. The caller's transaction holds the write lock throughout.
 *
 * SQLite: multi-row inserts of up to 500 events through one prepared statement (the statement
 * cache in db.ts keeps it by its text), with the ids given explicitly from the largest one stored,
 * which is the id SQLite itself would give each row; without RETURNING, which costs SQLite more
 * than the insert. Other databases: one INSERT … RETURNING built by Kysely for the group, ids
 * matched by seq. Each event row still passes through the events table's triggers, so the search
 * index is fed exactly as for a live message.
 */
export async function insertEventRows(db: Executor, tenant: string, conversationId: number, rows: readonly ImportedEventRow[]): Promise<number[]> {
  if (rows.length === 0) return [];
  if (db.getExecutor().adapter instanceof SqliteAdapter) return insertSqlite(db, tenant, conversationId, rows);
  return insertGeneric(db, tenant, conversationId, rows);
}

async function insertSqlite(db: Executor, tenant: string, conversationId: number, rows: readonly ImportedEventRow[]): Promise<number[]> {
  const top = await sql<{ id: number | null }>`SELECT max(id) AS id FROM events`.execute(db);
  let next = Number(top.rows[0]?.id ?? 0) + 1;
  const ids: number[] = [];
  for (let at = 0; at < rows.length; at += SQLITE_ROWS) {
    const part = rows.slice(at, at + SQLITE_ROWS);
    const values: unknown[] = [];
    for (const r of part) {
      ids.push(next);
      values.push(next, conversationId, r.seq, tenant, r.channel, r.waMessageId, r.kind, r.versionKey, r.direction, r.contentType, r.timestamp, r.eventJson, r.chainHash, r.receivedAt);
      next += 1;
    }
    await db.executeQuery(CompiledQuery.raw(sqliteInsert(part.length), values));
  }
  return ids;
}

const sqliteTexts = new Map<number, string>();

function sqliteInsert(count: number): string {
  let text = sqliteTexts.get(count);
  if (text === undefined) {
    const row = `(${columns.map(() => '?').join(', ')})`;
    text = `INSERT INTO events (${columns.join(', ')}) VALUES ${Array.from({ length: count }, () => row).join(', ')}`;
    sqliteTexts.set(count, text);
  }
  return text;
}

/** Rows per statement elsewhere: PostgreSQL takes at most 65,535 bound parameters. */
const GENERIC_ROWS = 2000;

async function insertGeneric(db: Executor, tenant: string, conversationId: number, rows: readonly ImportedEventRow[]): Promise<number[]> {
  const idBySeq = new Map<number, number>();
  for (let at = 0; at < rows.length; at += GENERIC_ROWS) {
    const part = rows.slice(at, at + GENERIC_ROWS);
    const inserted = await db
      .insertInto('events')
      .values(
        part.map((r) => ({
          conversation_id: conversationId,
          seq: r.seq,
          tenant,
          channel: r.channel,
          wa_message_id: r.waMessageId,
          kind: r.kind,
          version_key: r.versionKey,
          direction: r.direction,
          content_type: r.contentType,
          wa_timestamp: r.timestamp,
          event_json: r.eventJson,
          chain_sha256: r.chainHash,
          received_at: r.receivedAt,
        })),
      )
      .returning(['id', 'seq'])
      .execute();
    for (const row of inserted) idBySeq.set(Number(row.seq), Number(row.id));
  }
  return rows.map((r) => {
    const id = idBySeq.get(r.seq);
    if (id === undefined) throw new Error(`the insert of event seq ${r.seq} returned no id`);
    return id;
  });
}
