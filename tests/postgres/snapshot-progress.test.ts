import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { inboundMessage } from '../../bridge-server/src/channels/simulator/builders.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { archiveTables, snapshotToSqlite } from '../../bridge-server/src/store/snapshot.js';
import { openTestDatabase, testEngine } from '../support/test-database.js';

/**
 * `wa-bridge backup` of a PostgreSQL store first copies it into the backup's SQLite form, and the
 * progress bar counts that copy in rows: the total is counted in the copy's own snapshot, so the
 * count ends exactly at it, however the store changes meanwhile.
 */
describe('the snapshot of a PostgreSQL store reports its progress in rows', () => {
  let dir: string;
  let opened: OpenedDatabase;

  beforeAll(async () => {
    expect(testEngine).toBe('postgres');
    dir = await mkdtemp(path.join(tmpdir(), 'wab-snapshot-'));
    opened = await openTestDatabase(dir);
    const store = new SqlStore(opened.db, 'default');
    const clock = { now: () => Date.now() };
    for (let i = 0; i < 30; i += 1) {
      const envelope = inboundMessage({ from: `4477009009${String(i % 3).padStart(2, '0')}`, name: 'Jane Smith', type: 'text', body: `message ${i}` });
      await ingestBatch({ store, clock, tenant: 'default' }, normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(envelope)))));
    }
  });
  afterAll(async () => {
    await opened?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts from 0 to the rows the copy holds, never back, ending at its total', async () => {
    const file = path.join(dir, 'snapshot.sqlite');
    const seen: Array<[number, number]> = [];
    await snapshotToSqlite(opened.db, file, (done, total) => seen.push([done, total]));
    const copy = new BetterSqlite3(file, { readonly: true });
    let rows = 0;
    try {
      for (const table of archiveTables) rows += (copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      copy.close();
    }
    // 3 chats of 10 messages: conversations, events, relay jobs and more.
    expect(rows).toBeGreaterThan(60);
    expect(seen[0]).toEqual([0, rows]);
    expect(seen.at(-1)).toEqual([rows, rows]);
    expect(seen.every(([done, total], i) => total === rows && done >= (seen[i - 1]?.[0] ?? 0))).toBe(true);
  });
});
