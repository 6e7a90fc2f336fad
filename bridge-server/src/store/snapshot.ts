import { sql } from 'kysely';
import { openSqlite } from './db.js';
import type { Executor } from './executor.js';

/**
 * The archive's tables in an order where every row's references are already copied. The search
 * index is not copied: the SQLite schema rebuilds it as events go in. The bookkeeping tables
 * (schema_migrations, retention_in_progress, leases) stay behind.
 */
export const archiveTables = [
  'conversations',
  'blobs',
  'events',
  'attachments',
  'statuses',
  'mail_relays',
  'outbox_jobs',
  'outbound_commands',
  'outbound_parts',
  'matters',
  'matter_members',
  'matter_links',
  'conversation_assignees',
  'imports',
  'checkpoints',
  'audit_entries',
  'legal_holds',
  'deletion_certificates',
  'data_keys',
  'catch_up_numbers',
  'catch_up_marks',
] as const;

const pageRows = 2000;

/**
 * Writes a consistent copy of a PostgreSQL store into a new SQLite file with the same schema,
 * row for row with the same ids, so a backup of either engine has one format and restores into
 * either. One repeatable-read transaction: every table as of one moment, while the bridge writes on.
 */
export async function snapshotToSqlite(source: Executor, file: string, onRows?: (done: number, total: number) => void): Promise<void> {
  const target = openSqlite(file);
  try {
    await source
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (tx) => {
        await sql`SET TRANSACTION READ ONLY`.execute(tx);
        // Counted in the same snapshot, so the total is exactly what will be copied.
        let total = 0;
        if (onRows) for (const table of archiveTables) total += Number((await sql<{ n: string | number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(tx)).rows[0]?.n ?? 0);
        let done = 0;
        onRows?.(done, total);
        for (const table of archiveTables) {
          await copyTable(tx, table, async (rows) => {
            await insertRows(target.db, table, rows);
            done += rows.length;
            onRows?.(done, total);
          });
        }
      });
  } finally {
    await target.close();
  }
}

export type ArchiveTable = (typeof archiveTables)[number];

/**
 * Reads every row of `table` in pages, in key order, handing each page to `write`: a copy of a
 * large store never holds more than a page.
 */
export async function copyTable(source: Executor, table: ArchiveTable, write: (rows: Array<Record<string, unknown>>) => Promise<void>): Promise<void> {
  // Tables keyed by something other than a numeric id are copied in one pass of their key order.
  const keys: Partial<Record<ArchiveTable, string>> = {
    matter_members: 'matter_id, upn',
    conversation_assignees: 'conversation_id',
    catch_up_numbers: 'business_id',
    catch_up_marks: 'business_id, chat_id',
  };
  if (table === 'blobs') {
    // Paged by hash, in smaller pages: a row may keep a relayed mail's bytes (up to
    // INLINE_BLOB_BYTES, blob-inline.ts), and a large archive holds millions of them.
    let after = '';
    for (;;) {
      const rows = await sql<Record<string, unknown> & { sha256: string }>`SELECT * FROM blobs WHERE sha256 > ${after} ORDER BY sha256 LIMIT ${pageRows / 4}`.execute(source);
      if (rows.rows.length === 0) return;
      await write(rows.rows);
      after = rows.rows.at(-1)!.sha256;
    }
  }
  const key = keys[table] ?? 'id';
  if (key !== 'id') {
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} ORDER BY ${sql.raw(key)}`.execute(source);
    if (rows.rows.length > 0) await write(rows.rows);
    return;
  }
  let after = -1;
  for (;;) {
    const rows = await sql<Record<string, unknown> & { id: number }>`SELECT * FROM ${sql.table(table)} WHERE id > ${after} ORDER BY id LIMIT ${pageRows}`.execute(source);
    if (rows.rows.length === 0) return;
    await write(rows.rows);
    after = rows.rows.at(-1)!.id;
  }
}

async function insertRows(target: Executor, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  if (rows.length === 0) return;
  await target.transaction().execute((tx) => insertRowsIn(tx, table, rows));
}

/** Inserts rows as they are, ids included, in the caller's transaction. */
export async function insertRowsIn(tx: Executor, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  // SQLite takes at most 32,766 bound values a statement; a few hundred rows stay well below.
  for (let i = 0; i < rows.length; i += 200) await tx.insertInto(table as never).values(rows.slice(i, i + 200) as never).execute();
}
