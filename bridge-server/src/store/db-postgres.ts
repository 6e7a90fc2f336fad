import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { listMigrations, type OpenedDatabase } from './db.js';
import { namedStatementPool } from './pg-statements.js';
import type { Database } from './schema.js';

// Opening the store on PostgreSQL. Loaded only when the configured database is PostgreSQL, so a
// command or a bridge on the embedded SQLite store never loads the pg driver (about 0.1 s at start).

/**
 * 64-bit integers (ids, millisecond times, counts) come back as numbers, as they do from SQLite:
 * every value the store keeps is far below 2^53. NUMERIC (sums) likewise.
 */
export const postgresTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** Any number of bridge instances may start at once; one applies the migrations at a time. */
const migrationLockKey = 0x7761_6272; // "wabr"

export async function openPostgres(url: string, preparedStatements: boolean): Promise<OpenedDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: 10, types: postgresTypes, application_name: 'wa-bridge' });
  // A connection the server drops (a restart, a failover) must not take the process down: an idle
  // one leaves the pool, and one in use between statements fails its next statement, whose
  // caller retries (a webhook answers 500 and is redelivered; a job backs off). The pool then
  // opens fresh connections.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  let applied: string[];
  try {
    applied = await migratePostgres(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  // The cursor lets archive-wide reads (verify, export, backup) stream rows instead of loading them all.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparedStatements ? namedStatementPool(pool) : pool, cursor: Cursor }) });
  return { db, kind: 'postgres', applied, close: () => db.destroy() };
}

async function migratePostgres(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLockKey]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((row) => row.name));
      const applied: string[] = [];
      for (const migration of listMigrations('postgres')) {
        if (done.has(migration.name)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [migration.name, Date.now()]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
        }
        applied.push(migration.name);
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [migrationLockKey]);
    }
  } finally {
    client.release();
  }
}
