import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compiledOnce } from './compiled.js';
import { openSqlite, type OpenedDatabase } from './db.js';

describe('compiledOnce', () => {
  let opened: OpenedDatabase;
  beforeEach(() => {
    opened = openSqlite(':memory:');
  });
  afterEach(() => opened.close());

  const blobSize = compiledOnce((db) => db.selectFrom('blobs').select('size').where('sha256', '=', '').where('size', '>', 0));

  it('runs the compiled shape with the parameters of each call, inside a transaction too', async () => {
    await opened.db.insertInto('blobs').values([{ sha256: 'aa', size: 3, created_at: 1 }, { sha256: 'bb', size: 9, created_at: 1 }]).execute();
    expect(await blobSize(opened.db, ['aa', 0])).toEqual([{ size: 3 }]);
    expect(await blobSize(opened.db, ['bb', 5])).toEqual([{ size: 9 }]);
    expect(await blobSize(opened.db, ['aa', 5])).toEqual([]);
    await opened.db.transaction().execute(async (trx) => {
      await trx.insertInto('blobs').values({ sha256: 'cc', size: 4, created_at: 1 }).execute();
      expect(await blobSize(trx, ['cc', 0])).toEqual([{ size: 4 }]);
    });
  });

  it('refuses a call with the wrong number of parameters', async () => {
    await expect(blobSize(opened.db, ['aa'])).rejects.toThrow(/takes 2 parameters, got 1/);
  });
});
