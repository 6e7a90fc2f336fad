import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from './wal-checkpointer.js';

const until = async (check: () => boolean, timeoutMs: number): Promise<boolean> => {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
};

describe('the WAL checkpointer thread', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-wal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('copies committed pages into the database file while the writer, which never checkpoints, goes on, and lets go of the file when closed', async () => {
    const file = path.join(dir, 'store.sqlite');
    const writer = new BetterSqlite3(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    writer.pragma('wal_checkpoint(TRUNCATE)');
    const before = statSync(file).size;
    const errors: string[] = [];
    const checkpointer = new WalCheckpointer(file, (message) => errors.push(message), 20);
    try {
      const insert = writer.prepare('INSERT INTO notes (body) VALUES (?)');
      for (let i = 0; i < 2000; i += 1) insert.run(`note ${i} `.repeat(20));
      // Only a checkpoint writes pages into the database file itself; this writer never runs one.
      expect(await until(() => statSync(file).size > before + 200_000, 10_000)).toBe(true);
      // Everything in the WAL is in the file once the thread has caught up: a checkpoint now has nothing left to copy.
      expect(
        await until(() => {
          const [row] = writer.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
          return row!.log > 0 && row!.checkpointed === row!.log;
        }, 10_000),
      ).toBe(true);
      const reader = new BetterSqlite3(file, { readonly: true });
      expect((reader.prepare('SELECT count(*) AS n FROM notes').get() as { n: number }).n).toBe(2000);
      reader.close();
      expect(errors).toEqual([]);
      // Closed, the thread lets go of its connection: leaving WAL mode needs the file to itself.
      await checkpointer.close();
      expect(writer.pragma('journal_mode = DELETE', { simple: true })).toBe('delete');
    } finally {
      await checkpointer.close();
      writer.close();
    }
  });

  it('reports a database it cannot open', async () => {
    const errors: string[] = [];
    const checkpointer = new WalCheckpointer(path.join(dir, 'missing.sqlite'), (message) => errors.push(message), 20);
    try {
      expect(await until(() => errors.length > 0, 5_000)).toBe(true);
      expect(errors[0]).toMatch(/^the checkpointer thread cannot open the database: unable to open database file/);
    } finally {
      await checkpointer.close();
    }
  });
});
