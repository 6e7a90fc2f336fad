import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTypes } from '../../bridge-server/src/store/db-postgres.js';
import { openDatabase } from '../../bridge-server/src/store/db.js';
import { namedStatementPool } from '../../bridge-server/src/store/pg-statements.js';
import { testDatabaseFor } from '../support/test-database.js';

/**
 * The store's PostgreSQL statements go as named prepared statements, parsed once per connection.
 * One connection (max 1) so that what one query prepared is what the next one finds.
 */
describe('named prepared statements on PostgreSQL', () => {
  let dir: string;
  let pool: pg.Pool;
  let db: Kysely<Record<string, Record<string, unknown>>>;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-named-'));
    const location = await testDatabaseFor(dir);
    if (location.kind !== 'postgres') throw new Error('this suite runs on PostgreSQL only');
    url = location.url;
    pool = new pg.Pool({ connectionString: url, max: 1, types: postgresTypes });
    db = new Kysely({ dialect: new PostgresDialect({ pool: namedStatementPool(pool) }) });
    await sql`CREATE TABLE named_notes (id bigint PRIMARY KEY, body text NOT NULL)`.execute(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const prepared = async (): Promise<string[]> =>
    (await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`.execute(db)).rows.map((r) => r.statement.replace(/\s+/g, ' '));

  it('prepares a statement with parameters once and runs it with each call’s values', async () => {
    for (let id = 1; id <= 3; id += 1) await db.insertInto('named_notes').values({ id, body: `note ${id}` }).execute();
    const inserts = (await prepared()).filter((text) => text.startsWith('insert into "named_notes"'));
    expect(inserts).toHaveLength(1);
    const rows = await db.selectFrom('named_notes').select(['id', 'body']).where('id', '>=', 2).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 2, body: 'note 2' },
      { id: 3, body: 'note 3' },
    ]);
    expect(await db.selectFrom('named_notes').select('body').where('id', '=', 1).executeTakeFirst()).toEqual({ body: 'note 1' });
  });

  it('sends a statement without parameters as before, so a script of several commands still runs', async () => {
    await sql.raw('UPDATE named_notes SET body = body; SELECT 1').execute(db);
    expect((await prepared()).some((text) => text.includes('SET body = body'))).toBe(false);
  });

  it('after a change of a table’s columns, fails the stale statement once and prepares it afresh on the next connection', async () => {
    const all = () => db.selectFrom('named_notes').selectAll().where('id', '=', 1).executeTakeFirst();
    expect(await all()).toEqual({ id: 1, body: 'note 1' });
    // Another bridge instance's migration, from outside this pool.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query("ALTER TABLE named_notes ADD COLUMN sender text NOT NULL DEFAULT 'client'");
    } finally {
      await admin.end();
    }
    await expect(all()).rejects.toMatchObject({ code: '0A000' });
    expect(await all()).toEqual({ id: 1, body: 'note 1', sender: 'client' });
    expect(await db.selectFrom('named_notes').select('id').execute()).toHaveLength(3);
  });

  it('is how the store opens PostgreSQL, unless told not to (a pooler that cannot keep them)', async () => {
    for (const preparedStatements of [true, false]) {
      const store = await openDatabase({ kind: 'postgres', url, preparedStatements });
      try {
        // One connection throughout: prepared statements belong to a session.
        const names = await store.db.connection().execute(async (conn) => {
          await conn.selectFrom('schema_migrations').select('name').where('name', '>', '').execute();
          return (await sql<{ name: string }>`SELECT name FROM pg_prepared_statements`.execute(conn)).rows.map((r) => r.name);
        });
        expect(names.some((name) => name.startsWith('wab_'))).toBe(preparedStatements);
      } finally {
        await store.close();
      }
    }
  });
});
