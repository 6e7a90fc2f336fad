import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type OpenedDatabase } from './db.js';
import { executorOf } from './executor.js';
import { GroupCommit } from './group-commit.js';

describe('GroupCommit', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let reader: BetterSqlite3.Database;
  let group: GroupCommit;
  /** What another connection sees: only committed rows. */
  const committed = () => (reader.prepare('SELECT v FROM notes ORDER BY id').all() as Array<{ v: string }>).map((r) => r.v);
  const insert = (v: string, parent: number | null = null) =>
    group.run(async (tx) => {
      await sql`INSERT INTO notes (v, parent) VALUES (${v}, ${parent})`.execute(executorOf(tx));
      return v;
    });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-group-'));
    const file = path.join(dir, 'db.sqlite');
    opened = openSqlite(file);
    await sql`CREATE TABLE notes (id INTEGER PRIMARY KEY, v TEXT NOT NULL, parent INTEGER REFERENCES notes (id))`.execute(opened.db);
    reader = new BetterSqlite3(file, { readonly: true });
    group = new GroupCommit(opened.db);
  });
  afterEach(async () => {
    reader.close();
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each unit only once its writes are committed, and commits units that queued up together', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const seenAtAnswer = new Map<string, string[]>();
    const first = group.run(async (tx) => {
      await sql`INSERT INTO notes (v) VALUES ('first')`.execute(executorOf(tx));
      started();
      await gate;
      return 'first';
    });
    await running;
    void first.then(() => seenAtAnswer.set('first', committed()));
    // These arrive while the first unit's transaction is open, so they share the next one.
    const rest = ['a', 'b', 'c', 'd'].map((v) => insert(v).then((value) => (seenAtAnswer.set(value, committed()), value)));
    expect(committed()).toEqual([]);
    release();
    expect(await Promise.all([first, ...rest])).toEqual(['first', 'a', 'b', 'c', 'd']);
    expect(seenAtAnswer.get('first')).toEqual(['first']);
    // Answered after the one commit of the group: all four were stored by then.
    for (const v of ['a', 'b', 'c', 'd']) expect(seenAtAnswer.get(v)).toEqual(['first', 'a', 'b', 'c', 'd']);
  });

  it('puts units that arrive in the same turn of the event loop in one transaction', async () => {
    const seenAtAnswer: string[][] = [];
    const units = ['x', 'y', 'z'].map((v) => insert(v).then(() => void seenAtAnswer.push(committed())));
    await Promise.all(units);
    expect(seenAtAnswer).toEqual([
      ['x', 'y', 'z'],
      ['x', 'y', 'z'],
      ['x', 'y', 'z'],
    ]);
  });

  it('rolls back a failing unit alone; the rest of its group commits', async () => {
    const failing = group.run(async (tx) => {
      await sql`INSERT INTO notes (v) VALUES ('half-done')`.execute(executorOf(tx));
      throw new Error('the batch was malformed');
    });
    const results = await Promise.allSettled([insert('before'), failing, insert('after')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'the batch was malformed' });
    expect(committed()).toEqual(['before', 'after']);
  });

  it('undoes exactly the failing units, wherever they stand in the group and however many follow each other', async () => {
    const failing = (v: string) =>
      group.run(async (tx) => {
        await sql`INSERT INTO notes (v) VALUES (${v})`.execute(executorOf(tx));
        throw new Error(`${v} failed`);
      });
    const results = await Promise.allSettled([failing('f1'), insert('a'), failing('f2'), failing('f3'), insert('b'), insert('c'), failing('f4')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'rejected']);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ message: 'f3 failed' });
    expect(committed()).toEqual(['a', 'b', 'c']);
  });

  it('runs each unit of a group once when none fails, and the whole group again when one does', async () => {
    const runs = new Map<string, number>();
    const counted = (v: string, fail = false) =>
      group.run(async (tx) => {
        runs.set(v, (runs.get(v) ?? 0) + 1);
        await sql`INSERT INTO notes (v) VALUES (${v})`.execute(executorOf(tx));
        if (fail) throw new Error(`${v} failed`);
        return v;
      });
    expect(await Promise.all([counted('a'), counted('b')])).toEqual(['a', 'b']);
    expect(Object.fromEntries(runs)).toEqual({ a: 1, b: 1 });
    runs.clear();
    // The first write stops at the failing unit and is rolled back; the second runs every unit in a savepoint.
    const results = await Promise.allSettled([counted('c'), counted('d', true), counted('e')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(Object.fromEntries(runs)).toEqual({ c: 2, d: 2, e: 1 });
    expect(committed()).toEqual(['a', 'b', 'c', 'e']);
  });

  it('stores nothing of a unit that fails alone in its group, and the next group is unaffected', async () => {
    const alone = group.run(async (tx) => {
      await sql`INSERT INTO notes (v) VALUES ('half-done')`.execute(executorOf(tx));
      throw new Error('the batch was malformed');
    });
    await expect(alone).rejects.toThrow('the batch was malformed');
    expect(committed()).toEqual([]);
    expect(await insert('next')).toBe('next');
    expect(committed()).toEqual(['next']);
  });

  it('fails every unit of a group whose commit fails, and stores none of them', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const opener = group.run(async () => {
      started();
      await gate;
    });
    await running;
    const good = insert('good');
    // A deferred foreign key is checked at COMMIT, which then fails for the whole group.
    const dangling = group.run(async (tx) => {
      await sql`PRAGMA defer_foreign_keys = ON`.execute(executorOf(tx));
      await sql`INSERT INTO notes (v, parent) VALUES ('dangling', 999)`.execute(executorOf(tx));
    });
    release();
    await opener;
    const results = await Promise.allSettled([good, dangling]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(committed()).toEqual([]);
    // The next group is unaffected.
    expect(await insert('later')).toBe('later');
    expect(committed()).toEqual(['later']);
  });
});
