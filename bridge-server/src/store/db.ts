import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompiledQuery, Kysely, SqliteDialect, type Driver, type SqliteDatabase } from 'kysely';
import { BadInputError, ConfigError } from '../core/errors.js';
import type { Database } from './schema.js';

/**
 * Where the store lives: the embedded SQLite file (default) or a PostgreSQL database, whose
 * statements go as named prepared statements unless `preparedStatements` is false (see
 * pg-statements.ts).
 */
export type DatabaseLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; preparedStatements?: boolean };

export interface OpenedDatabase {
  db: Kysely<Database>;
  kind: DatabaseLocation['kind'];
  /** Names of the migrations this call applied (empty when the schema was current). */
  applied: string[];
  close(): Promise<void>;
}

/**
 * Opens the configured database and brings its schema up to date. When it cannot be opened for a
 * reason an operator can act on (a file that is no SQLite database, a server that does not answer,
 * a login refused, a database missing), the error says so and names the setting.
 */
export async function openDatabase(location: DatabaseLocation): Promise<OpenedDatabase> {
  try {
    return location.kind === 'sqlite' ? openSqlite(location.file) : await (await import('./db-postgres.js')).openPostgres(location.url, location.preparedStatements ?? true);
  } catch (error) {
    throw openProblem(error as Error & { code?: unknown }, location);
  }
}

/**
 * The store a command works on, which must be there already: run without the service's settings,
 * a command would otherwise create an empty store under ./data and report on that (`verify`: "OK
 * 0 conversations"). The bridge itself, an import and a full restore may start a store.
 */
export async function openExistingDatabase(location: DatabaseLocation): Promise<OpenedDatabase> {
  if (location.kind === 'sqlite' && location.file !== ':memory:' && !existsSync(location.file)) {
    throw new BadInputError('no_store', `no archive at ${location.file}: set WA_BRIDGE_DATA_DIR (or WA_BRIDGE_DATABASE_URL) as the bridge's service has it`);
  }
  return openDatabase(location);
}

/** Why a database did not open, in an operator's terms; any other error as it is. */
function openProblem(error: Error & { code?: unknown }, location: DatabaseLocation): Error {
  const code = typeof error.code === 'string' ? error.code : '';
  if (location.kind === 'sqlite') {
    const file = location.file;
    switch (code) {
      case 'SQLITE_NOTADB':
        return new Error(`${file} is not a SQLite database, or its header is damaged; nothing was changed. Point WA_BRIDGE_DATABASE_URL (or WA_BRIDGE_DATA_DIR) at the bridge's database`, { cause: error });
      case 'SQLITE_CORRUPT':
        return new Error(`${file} is damaged (SQLite reports it malformed); nothing was changed. Keep a copy of the file, with any -wal file beside it, before anything else is tried`, { cause: error });
      case 'SQLITE_CANTOPEN':
      case 'SQLITE_READONLY':
      case 'SQLITE_PERM':
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
      case 'ENOTDIR':
      case 'EEXIST':
        return new ConfigError(`WA_BRIDGE_DATA_DIR: cannot open ${file} for writing (${code}); the data directory must be a directory this user can write`);
      default:
        return error;
    }
  }
  let where = 'the server';
  let user = '';
  let database = '';
  try {
    const url = new URL(location.url);
    where = `${url.hostname || 'localhost'}:${url.port || '5432'}`;
    user = decodeURIComponent(url.username);
    database = decodeURIComponent(url.pathname.slice(1));
  } catch {
    // the configuration check already refused a URL that does not parse
  }
  const said = error.message.replace(/\/\/([^:@/]*):[^@/]*@/g, '//$1:***@');
  switch (code) {
    case 'ECONNREFUSED':
      return new ConfigError(`WA_BRIDGE_DATABASE_URL: nothing answers at ${where} (connection refused); is PostgreSQL running and listening there?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(`WA_BRIDGE_DATABASE_URL: the host of ${where} is not known (${code})`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ConfigError(`WA_BRIDGE_DATABASE_URL: ${where} cannot be reached (${code})`);
    case '28P01':
    case '28000':
      return new ConfigError(`WA_BRIDGE_DATABASE_URL: PostgreSQL at ${where} refused the login${user ? ` of ${JSON.stringify(user)}` : ''}: ${said}`);
    case '3D000':
      return new ConfigError(`WA_BRIDGE_DATABASE_URL: ${said} on ${where}; create it first${database ? ` (createdb ${database})` : ''}`);
    case '42501':
      return new ConfigError(`WA_BRIDGE_DATABASE_URL: ${user ? JSON.stringify(user) : 'this user'} may not create or change the bridge's tables (${said}); the first start needs the database's owner, or CREATE on its schema`);
    default:
      return error;
  }
}

/** The database URL with any password hidden, for logs and messages. */
export function describeLocation(location: DatabaseLocation): string {
  return location.kind === 'sqlite' ? location.file : location.url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Opens (creating if needed) the SQLite file in WAL mode and brings its schema up to date.
 * Each migration runs in its own transaction with its bookkeeping row, so a failed one leaves
 * the database as it was before it.
 */
export function openSqlite(file: string): OpenedDatabase {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  let applied: string[];
  try {
    // First, so that even switching to WAL waits for a command or a bridge holding the lock
    // instead of failing at once with "database is locked".
    sqlite.pragma('busy_timeout = 5000');
    // WAL lets readers run beside the writer; NORMAL sync in WAL mode is durable across process
    // crashes (only an OS crash can lose the newest commits), which is what the outbox relies on.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    applied = migrate(sqlite);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  // Statements such as the outbox claim (its recursive query and its ordering) build transient
  // tables on every call; kept in files, SQLite's default, they cost about 14 writes to
  // temporary files per relayed mail (counted with strace over a relay benchmark: 135,000
  // pwrite calls against 76,000 in memory). Set after the migrations, whose index builds over
  // whole tables are better left to spill to disk.
  sqlite.pragma('temp_store = MEMORY');
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, kind: 'sqlite', applied, close: () => db.destroy() };
}


/**
 * Transactions begin IMMEDIATE. The bridge and the commands beside it (audit, retention,
 * restore, jobs) write to one file from several processes; a deferred transaction that read
 * first and then writes cannot wait for another process's commit (SQLite answers SQLITE_BUSY at
 * once, without the busy handler, when the snapshot it read is stale). Taking the write lock at
 * BEGIN lets busy_timeout do the waiting.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

/**
 * Kysely prepares every query afresh; preparing costs more than running these small statements.
 * The SQL text Kysely generates is stable per query shape, so prepared statements are kept by
 * text. better-sqlite3 statements are reusable once a call has returned (Kysely never iterates
 * lazily), and the cache is bounded by the number of query shapes in store/.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => void sqlite.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (cache.size < 500) cache.set(text, statement);
      }
      return statement;
    },
  };
}

export function listMigrations(dialect: 'sqlite' | 'postgres'): Array<{ name: string; sql: string }> {
  return readdirSync(migrationsDir)
    .filter((file) => file.endsWith(`.${dialect}.sql`) || (/^\d{4}-[a-z0-9-]+\.sql$/.test(file) && !/\.(sqlite|postgres)\.sql$/.test(file)))
    .sort()
    .map((file) => ({ name: file.replace(/\.(sqlite|postgres)\.sql$|\.sql$/, ''), sql: readFileSync(path.join(migrationsDir, file), 'utf8') }));
}

function migrate(sqlite: BetterSqlite3.Database): string[] {
  sqlite.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const done = new Set((sqlite.prepare('SELECT name FROM schema_migrations').all() as Array<{ name: string }>).map((row) => row.name));
  const applied: string[] = [];
  for (const migration of listMigrations('sqlite')) {
    if (done.has(migration.name)) continue;
    sqlite
      .transaction(() => {
        sqlite.exec(migration.sql);
        sqlite.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(migration.name, Date.now());
      })
      .immediate();
    applied.push(migration.name);
  }
  return applied;
}

