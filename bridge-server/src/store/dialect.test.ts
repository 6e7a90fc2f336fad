import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type OpenedDatabase } from './db.js';
import { rowLimit } from './dialect.js';
import type { Database } from './schema.js';

describe('rowLimit', () => {
  let opened: OpenedDatabase;
  beforeEach(() => {
    opened = openSqlite(':memory:');
  });
  afterEach(() => opened.close());

  it('writes the count into the SQL on SQLite, with no parameter to bind', async () => {
    const query = sql<{ n: number }>`SELECT value AS n FROM json_each('[1,2,3,4]') LIMIT ${rowLimit(opened.db, 2)}`;
    const compiled = query.compile(opened.db);
    expect(compiled.sql).toMatch(/LIMIT 2$/);
    expect(compiled.parameters).toEqual([]);
    expect((await query.execute(opened.db)).rows).toEqual([{ n: 1 }, { n: 2 }]);
    expect(opened.db.selectFrom('events').select('id').limit(rowLimit(opened.db, 0)).compile().sql).toMatch(/limit 0$/);
  });

  it('keeps the count a parameter on PostgreSQL', () => {
    // Compiling needs no connection: the pool is never asked for one.
    const pg = new Kysely<Database>({ dialect: new PostgresDialect({ pool: () => Promise.reject(new Error('not connected')) }) });
    const compiled = pg.selectFrom('events').select('id').limit(rowLimit(pg, 21)).compile();
    expect(compiled.sql).toMatch(/limit \$1$/);
    expect(compiled.parameters).toEqual([21]);
  });

  it('refuses a count that is not a whole number of rows', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) expect(() => rowLimit(opened.db, bad)).toThrow(RangeError);
  });
});
