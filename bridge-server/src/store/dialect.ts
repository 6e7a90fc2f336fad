import { PostgresAdapter, sql, type RawBuilder } from 'kysely';
import type { Executor } from './executor.js';

/**
 * The few places where SQLite and PostgreSQL spell the same thing differently. Everything else
 * in store/ is written once, in SQL both accept.
 */
export type Dialect = 'sqlite' | 'postgres';

export function dialectOf(db: Executor): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** A string field of a JSON text column, e.g. jsonText(db, 'event_json', 'targetWaMessageId'). */
export function jsonText(db: Executor, column: string, ...keys: string[]): RawBuilder<string | null> {
  if (dialectOf(db) === 'postgres') return sql<string | null>`(${sql.ref(column)}::jsonb #>> ${`{${keys.join(',')}}`})`;
  return sql<string | null>`json_extract(${sql.ref(column)}, ${`$.${keys.join('.')}`})`;
}

/** SQLite's planner hint; PostgreSQL plans on its own. */
export function indexedBy(db: Executor, index: string): RawBuilder<unknown> {
  return dialectOf(db) === 'postgres' ? sql`` : sql.raw(`INDEXED BY ${index}`);
}

/**
 * A row count for LIMIT. With the SQLite in better-sqlite3 (3.53), a statement whose LIMIT count is
 * a bound parameter costs on every run what preparing it costs, as if prepared again each time:
 * the outbox claim took 50 µs a run with `LIMIT ?` (49 µs to prepare) and 3 µs with `LIMIT 32`,
 * the same plan. On SQLite the count is therefore written into the statement's text, as a whole
 * number checked here (the hot statements use a few counts each, so a few cached statements).
 * PostgreSQL keeps it a parameter.
 */
export function rowLimit(db: Executor, count: number): RawBuilder<number> {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`a row limit must be a whole number of rows, not ${count}`);
  return dialectOf(db) === 'postgres' ? sql<number>`${count}` : sql.lit(count);
}

/** Strings joined with a separator over a group. */
export function groupConcat(db: Executor, expression: RawBuilder<unknown>, separator: string): RawBuilder<string | null> {
  return dialectOf(db) === 'postgres' ? sql<string | null>`string_agg(${expression}, ${separator})` : sql<string | null>`group_concat(${expression}, ${separator})`;
}

/**
 * Serializes writers of one chain (a conversation's events, the audit trail, the checkpoints) in
 * a transaction. SQLite transactions here already hold the database's write lock from BEGIN; on
 * PostgreSQL two instances could otherwise read the same chain head and both append after it.
 * The lock is released at commit or rollback.
 */
export async function lockChain(db: Executor, chain: 'conversation' | 'audit' | 'checkpoints' | 'outbox', id = 0): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  const family = { conversation: 1, audit: 2, checkpoints: 3, outbox: 4 }[chain];
  await sql`SELECT pg_advisory_xact_lock(${family}, ${id})`.execute(db);
}
