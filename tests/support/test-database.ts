import { createHash } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { postgresTypes } from '../../bridge-server/src/store/db-postgres.js';
import { openDatabase, type DatabaseLocation, type OpenedDatabase } from '../../bridge-server/src/store/db.js';

/**
 * Which engine the suites run on: the embedded SQLite default, or PostgreSQL when the vitest
 * project sets WA_BRIDGE_TEST_DATABASE=postgres. On PostgreSQL every data dir a test uses gets a
 * database of its own, made on first use and named after the run and the dir, so a bridge, a
 * child process and a CLI command on the same data dir share it; the run drops them all at its
 * end (tests/support/postgres-setup.ts).
 */
export const testEngine: 'sqlite' | 'postgres' = process.env.WA_BRIDGE_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = testEngine === 'postgres';

export const postgresServerUrl = process.env.WA_BRIDGE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function runDatabasePrefix(): string {
  const run = process.env.WA_BRIDGE_TEST_RUN;
  if (!run) throw new Error('WA_BRIDGE_TEST_RUN is not set: run the PostgreSQL suites through vitest (its global setup names the run)');
  return `wab_t_${run}_`;
}

const created = new Map<string, Promise<void>>();

function databaseUrl(name: string): string {
  const url = new URL(postgresServerUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates the database unless this process or another already did. */
async function ensureDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresServerUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${name}`).catch((error: { code?: string }) => {
        // 42P04: made meanwhile by another worker for the same dir.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** Where the store of `dataDir` lives in this run. */
export async function testDatabaseFor(dataDir: string): Promise<DatabaseLocation> {
  if (!onPostgres) return { kind: 'sqlite', file: path.join(dataDir, 'wa-bridge.sqlite') };
  const name = `${runDatabasePrefix()}${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}`;
  let made = created.get(name);
  if (!made) {
    made = ensureDatabase(name);
    created.set(name, made);
  }
  await made;
  return { kind: 'postgres', url: databaseUrl(name) };
}

/** The environment that points a bridge or a command on `dataDir` at its store. */
export async function databaseEnvFor(dataDir: string): Promise<Record<string, string>> {
  const location = await testDatabaseFor(dataDir);
  return location.kind === 'postgres' ? { WA_BRIDGE_DATABASE_URL: location.url } : {};
}

/** Opens the store of `dataDir` as the bridge does (migrating it if new). */
export async function openTestDatabase(dataDir: string): Promise<OpenedDatabase> {
  return openDatabase(await testDatabaseFor(dataDir));
}

function databaseNameOf(location: DatabaseLocation): string {
  if (location.kind !== 'postgres') throw new Error('not a PostgreSQL location');
  return new URL(location.url).pathname.slice(1);
}

/**
 * Gives `toDir` a copy of the store of `fromDir` (whose files the caller has copied already):
 * nothing to do on SQLite, whose database is one of those files; on PostgreSQL a new database
 * made from the first as its template. Nothing may be connected to the original meanwhile.
 */
export async function copyTestDatabase(fromDir: string, toDir: string): Promise<void> {
  if (!onPostgres) return;
  const from = databaseNameOf(await testDatabaseFor(fromDir));
  const name = `${runDatabasePrefix()}${createHash('sha256').update(path.resolve(toDir)).digest('hex').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: postgresServerUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${from}`);
  } finally {
    await client.end();
  }
  created.set(name, Promise.resolve());
}

/**
 * Raw SQL on a store, below the bridge's own rules, for tests that play someone with direct
 * access to the database: `?` placeholders on both engines.
 */
export interface RawStore {
  get<T>(text: string, ...params: unknown[]): Promise<T | undefined>;
  all<T>(text: string, ...params: unknown[]): Promise<T[]>;
  run(text: string, ...params: unknown[]): Promise<void>;
  /** Removes one of the archive's append-only guards. */
  dropTrigger(table: string, trigger: string): Promise<void>;
  /** Lets the next statements break foreign keys (and every other trigger, on PostgreSQL). */
  foreignKeysOff(): Promise<void>;
  close(): Promise<void>;
}

export async function openRawStore(dataDir: string, options: { readonly?: boolean } = {}): Promise<RawStore> {
  const location = await testDatabaseFor(dataDir);
  if (location.kind === 'sqlite') {
    const { default: BetterSqlite3 } = await import('better-sqlite3');
    // Read-only leaves a WAL as a killed process left it (a writer closing would fold it in).
    const db = new BetterSqlite3(location.file, { readonly: options.readonly === true });
    return {
      get: async <T>(text: string, ...params: unknown[]) => db.prepare(text).get(...params) as T | undefined,
      all: async <T>(text: string, ...params: unknown[]) => db.prepare(text).all(...params) as T[],
      run: async (text, ...params) => void db.prepare(text).run(...params),
      dropTrigger: async (_table, trigger) => void db.exec(`DROP TRIGGER ${trigger}`),
      foreignKeysOff: async () => void db.pragma('foreign_keys = OFF'),
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: location.url, types: postgresTypes });
  await client.connect();
  let n = 0;
  // Placeholders outside quoted strings only ('%what?%' stays as written).
  const numbered = (text: string) => text.replace(/'(?:[^']|'')*'|\?/g, (match) => (match === '?' ? `$${++n}` : match));
  const query = async <T>(text: string, params: unknown[]): Promise<T[]> => {
    n = 0;
    return (await client.query(numbered(text), params)).rows as T[];
  };
  return {
    get: async <T>(text: string, ...params: unknown[]) => (await query<T>(text, params))[0],
    all: async <T>(text: string, ...params: unknown[]) => query<T>(text, params),
    run: async (text, ...params) => void (await query(text, params)),
    dropTrigger: async (table, trigger) => void (await client.query(`DROP TRIGGER ${trigger} ON ${table}`)),
    foreignKeysOff: async () => void (await client.query('SET session_replication_role = replica')),
    close: () => client.end(),
  };
}

/** Every table of the store (SQLite's full-text shadow tables included), by name. */
export async function listTables(opened: OpenedDatabase): Promise<string[]> {
  const { sql } = await import('kysely');
  const rows =
    opened.kind === 'postgres'
      ? await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(opened.db)
      : await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`.execute(opened.db);
  return rows.rows.map((row) => row.name);
}

/**
 * How many outbox jobs of the store of `dataDir` are pending or running (of `kind` only, when
 * given), read from outside any bridge: read-only on SQLite, so a WAL a killed bridge left stays
 * as it was.
 */
export async function activeJobsIn(dataDir: string, kind?: string): Promise<number> {
  const store = await openRawStore(dataDir, { readonly: true });
  try {
    const active = "SELECT count(*) AS n FROM outbox_jobs WHERE state IN ('pending', 'running')";
    const row = kind === undefined ? await store.get<{ n: number }>(active) : await store.get<{ n: number }>(`${active} AND kind = ?`, kind);
    return Number(row!.n);
  } finally {
    await store.close();
  }
}
