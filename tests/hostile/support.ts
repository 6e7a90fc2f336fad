import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import fc from 'fast-check';

/**
 * Shared by the hostile-input suites: fast-check settings that can be replayed, and snapshots of
 * what the archive holds, so a case can prove that nothing stored moved.
 */

/**
 * fast-check prints the seed and path of a failing run; `WA_BRIDGE_FUZZ_SEED=<seed>` replays it
 * (with the same numRuns), and `WA_BRIDGE_FUZZ_RUNS=<factor>` scales every suite's run count and the
 * time limits of its generated-case tests.
 */
export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.WA_BRIDGE_FUZZ_SEED;
  return {
    numRuns: Math.max(1, Math.round(numRuns * runFactor())),
    ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}),
  };
}

/** A generated-case test's time limit, grown with `WA_BRIDGE_FUZZ_RUNS` as its run count is. */
export function fuzzTimeout(ms: number): number {
  return Math.round(ms * Math.max(1, runFactor()));
}

function runFactor(): number {
  const factor = Number(process.env.WA_BRIDGE_FUZZ_RUNS ?? '1');
  return Number.isFinite(factor) && factor > 0 ? factor : 1;
}

/** The archive's tables: what a hostile input must never change (the outbox and relays may run on). */
export const archiveTables = ['events', 'conversations', 'attachments', 'statuses', 'outbound_commands', 'outbound_parts', 'imports', 'matters', 'matter_links', 'blobs'] as const;

// The rows are read as the database holds them; only their digest is compared.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export interface TableDigest {
  rows: number;
  sha256: string;
}

/** Row count and a SHA-256 over every row of each table (all columns, in rowid order). */
export async function digestTables(
  db: AnyDb,
  options: { tables?: readonly string[]; upTo?: Record<string, number>; ignoreColumns?: Record<string, readonly string[]> } = {},
): Promise<Record<string, TableDigest>> {
  const out: Record<string, TableDigest> = {};
  for (const table of options.tables ?? archiveTables) {
    const upTo = options.upTo?.[table];
    const ignored = new Set(options.ignoreColumns?.[table] ?? []);
    const rows = (
      upTo === undefined
        ? await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} ORDER BY rowid`.execute(db)
        : await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} WHERE rowid <= ${upTo} ORDER BY rowid`.execute(db)
    ).rows;
    const hash = createHash('sha256');
    for (const row of rows) hash.update(JSON.stringify(row, (key, value: unknown) => (ignored.has(key) ? undefined : (Buffer.isBuffer(value) ? value.toString('hex') : typeof value === 'bigint' ? value.toString() : value)))).update('\n');
    out[table] = { rows: rows.length, sha256: hash.digest('hex') };
  }
  return out;
}

/**
 * Outbox jobs not yet finished: pending, or claimed and still running. A suite waits for none
 * before it checks what was sent (a job claimed but not done counts as unfinished, so the wait
 * cannot end while a send is in flight).
 */
export async function unfinishedJobs(db: AnyDb): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM outbox_jobs WHERE state IN ('pending', 'running')`.execute(db);
  return Number(rows[0]!.n);
}

/** The highest rowid of each table, to compare "what was there before" after new rows arrived. */
export async function lastRowIds(db: AnyDb, tables: readonly string[] = archiveTables): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    const row = (await sql<{ n: number | null }>`SELECT max(rowid) AS n FROM ${sql.table(table)}`.execute(db)).rows[0];
    out[table] = Number(row?.n ?? 0);
  }
  return out;
}

/** Own property names of Object.prototype: a prototype-pollution probe compares them before and after. */
export const prototypeShape = (): string => JSON.stringify(Object.getOwnPropertyNames(Object.prototype).sort());
