import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type OpenedDatabase } from './db.js';

describe('the SQLite full-text index', () => {
  let dir: string;
  let opened: OpenedDatabase;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-fts-'));
    opened = openSqlite(path.join(dir, 'store.sqlite'));
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('merges its segments sixteen at a time (migration 0014), and keeps that across a reopen', async () => {
    const automerge = async () => (await sql<{ v: number }>`SELECT v FROM message_search_config WHERE k = 'automerge'`.execute(opened.db)).rows[0]?.v;
    expect(await automerge()).toBe(16);
    await opened.close();
    opened = openSqlite(path.join(dir, 'store.sqlite'));
    expect(opened.applied).toEqual([]);
    expect(await automerge()).toBe(16);
  });
});
