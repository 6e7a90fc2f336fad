import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Coalesced, CoalescedWrites } from './coalesced.js';
import { openSqlite, type OpenedDatabase } from './db.js';

describe('Coalesced and CoalescedWrites', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let reader: BetterSqlite3.Database;
  /** The item lists writeMany was called with, in order. */
  let calls: string[][];
  let writes: CoalescedWrites<string[]>;
  /** What another connection sees: only committed rows. */
  const committed = () => (reader.prepare('SELECT v FROM notes ORDER BY id').all() as Array<{ v: string }>).map((r) => r.v);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-coalesce-'));
    const file = path.join(dir, 'db.sqlite');
    opened = openSqlite(file);
    // v is unique, so writing a value twice fails the write it is in.
    await sql`CREATE TABLE notes (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`.execute(opened.db);
    reader = new BetterSqlite3(file, { readonly: true });
    calls = [];
    // Each item is a list of values, as a relay run is a list of mails; one transaction per write.
    writes = new CoalescedWrites<string[]>(async (items) => {
      const values = items.flat();
      calls.push(values);
      await opened.db.transaction().execute(async (trx) => {
        for (const v of values) await sql`INSERT INTO notes (v) VALUES (${v})`.execute(trx);
      });
    });
  });
  afterEach(async () => {
    reader.close();
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes items that arrive in the same turn as one write, in their order, and answers after its commit', async () => {
    const seenAtAnswer: string[][] = [];
    await Promise.all([['a', 'b'], ['c'], ['d', 'e']].map((item) => writes.write(item).then(() => void seenAtAnswer.push(committed()))));
    expect(calls).toEqual([['a', 'b', 'c', 'd', 'e']]);
    expect(seenAtAnswer).toEqual(Array.from({ length: 3 }, () => ['a', 'b', 'c', 'd', 'e']));
  });

  it('queues items that arrive while a write is under way for the next write', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = new CoalescedWrites<string>(async (items) => {
      calls.push(items);
      if (items.includes('first')) await gate;
    });
    const first = slow.write('first');
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([['first']]);
    const later = ['x', 'y', 'z'].map((v) => slow.write(v));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([['first']]);
    release();
    await Promise.all([first, ...later]);
    expect(calls).toEqual([['first'], ['x', 'y', 'z']]);
  });

  it('writes each item alone when their joint write fails: only the bad one fails, nothing of it is stored', async () => {
    await writes.write(['kept']);
    calls = [];
    const results = await Promise.allSettled([writes.write(['p', 'q']), writes.write(['r', 'kept']), writes.write(['s'])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed: notes\.v/);
    // The joint write, then one per item.
    expect(calls).toEqual([['p', 'q', 'r', 'kept', 's'], ['p', 'q'], ['r', 'kept'], ['s']]);
    expect(committed()).toEqual(['kept', 'p', 'q', 's']);
  });

  it('fails an item written alone without a second try, and the next write is unaffected', async () => {
    await writes.write(['once']);
    calls = [];
    await expect(writes.write(['once'])).rejects.toThrow(/UNIQUE constraint failed/);
    expect(calls).toEqual([['once']]);
    await writes.write(['next']);
    expect(committed()).toEqual(['once', 'next']);
  });

  it('writes at most maxItems items at a time', async () => {
    const small = new CoalescedWrites<string>(async (items) => void calls.push(items), 2);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((v) => small.write(v)));
    expect(calls).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('answers each caller with its own result from one call for all, and each alone when that call fails', async () => {
    const seen: number[][] = [];
    const squares = new Coalesced<number, number>(async (items) => {
      seen.push(items);
      if (items.includes(13)) throw new Error('13 is unlucky');
      return items.map((n) => n * n);
    });
    expect(await Promise.all([2, 3, 4].map((n) => squares.run(n)))).toEqual([4, 9, 16]);
    const mixed = await Promise.allSettled([5, 13, 6].map((n) => squares.run(n)));
    expect(mixed.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual([25, 'Error: 13 is unlucky', 36]);
    expect(seen).toEqual([[2, 3, 4], [5, 13, 6], [5], [13], [6]]);
  });

  it('fails a call that answers fewer or more requests than it was given', async () => {
    const short = new Coalesced<number, number>(async (items) => items.slice(1));
    const results = await Promise.allSettled([1, 2].map((n) => short.run(n)));
    // Together: one answer short; alone: no answer at all. Neither caller gets another's result.
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/answered 0 of 1 requests/);
  });
});
