import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { inboundMessage, type InboundMessageInput } from '../../bridge-server/src/channels/simulator/builders.js';
import type { NormalizedBatch } from '../../bridge-server/src/core/events.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import { REFERENCES_DEPTH } from '../../bridge-server/src/flows/relay.js';
import { openDatabase, type OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { appendEventRecord } from '../../bridge-server/src/store/event-append.js';
import { SqlRelayRuns } from '../../bridge-server/src/store/relays.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { GroupCommit } from '../../bridge-server/src/store/group-commit.js';
import { executorOf } from '../../bridge-server/src/store/executor.js';
import { openTestDatabase } from '../support/test-database.js';

const batchOf = (input: InboundMessageInput): NormalizedBatch => normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(inboundMessage(input)))));
const joined = (...batches: NormalizedBatch[]): NormalizedBatch => ({ events: batches.flatMap((b) => b.events), statuses: batches.flatMap((b) => b.statuses) });
const at = Date.UTC(2026, 10, 20, 9, 30) / 1000;

/**
 * On PostgreSQL an inbound event's duplicate check and conversation read go as one statement, and
 * its event, the conversation's new head and its job as another; SQLite runs them one by one. The
 * same webhooks, ingested with the same clock into an empty store on each engine, must leave the
 * same rows: the events with their chain links, the conversations' heads, the jobs and their
 * payloads, the attachments.
 */
describe('ingest on PostgreSQL and on SQLite', () => {
  let dir: string;
  let postgres: OpenedDatabase;
  let sqlite: OpenedDatabase;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-same-rows-'));
    postgres = await openTestDatabase(dir);
    sqlite = await openDatabase({ kind: 'sqlite', file: path.join(dir, 'compare.sqlite') });
  });
  afterAll(async () => {
    await postgres?.close();
    await sqlite?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const batches: NormalizedBatch[] = [
    // A new chat keyed by phone number: its conversation, cover job, event and relay job.
    batchOf({ from: '447700900101', name: 'Ann Client', type: 'text', body: 'first', id: 'wamid.same-1', timestamp: at }),
    batchOf({ from: '447700900101', name: 'Ann Client', type: 'text', body: 'second, quoting', id: 'wamid.same-2', timestamp: at + 1, context: { id: 'wamid.same-1' } }),
    // Redelivered: stored once.
    batchOf({ from: '447700900101', name: 'Ann Client', type: 'text', body: 'first', id: 'wamid.same-1', timestamp: at }),
    // A chat keyed by user id, with media (a media.fetch job instead of the relay).
    batchOf({ from: '447700900202', userId: 'GB.2002', name: 'Bo Client', type: 'image', media: { id: 'media-1', mimeType: 'image/jpeg' }, caption: 'a photo', id: 'wamid.same-3', timestamp: at + 2 }),
    batchOf({ from: '447700900202', userId: 'GB.2002', name: 'Bo Client', type: 'reaction', messageId: 'wamid.same-3', emoji: '👍', id: 'wamid.same-4', timestamp: at + 3 }),
    // A user with no number: found by user id alone.
    batchOf({ from: '', userId: 'GB.3003', username: 'cy', name: 'Cy Client', type: 'text', body: 'no number', id: 'wamid.same-5', timestamp: at + 4 }),
    batchOf({ from: '', userId: 'GB.3003', username: 'cy', name: 'Cy Client', type: 'location', latitude: 51.5, longitude: -0.12, id: 'wamid.same-6', timestamp: at + 5 }),
    // A chat first known by number, later with a user id too: the user id misses, the number finds it.
    batchOf({ from: '447700900404', name: 'Di Client', type: 'text', body: 'by number', id: 'wamid.same-7', timestamp: at + 6 }),
    batchOf({ from: '447700900404', userId: 'GB.4004', name: 'Di Client', type: 'text', body: 'now with a user id', id: 'wamid.same-8', timestamp: at + 7 }),
    // Several events in one transaction, one of them twice.
    joined(
      batchOf({ from: '447700900101', name: 'Ann Client', type: 'text', body: 'in a batch', id: 'wamid.same-9', timestamp: at + 8 }),
      batchOf({ from: '447700900202', userId: 'GB.2002', name: 'Bo Client', type: 'text', body: 'in a batch too', id: 'wamid.same-10', timestamp: at + 8 }),
      batchOf({ from: '447700900101', name: 'Ann Client', type: 'text', body: 'in a batch', id: 'wamid.same-9', timestamp: at + 8 }),
      batchOf({ from: '447700900505', name: 'Ed Client', type: 'text', body: 'new in a batch', id: 'wamid.same-11', timestamp: at + 8 }),
    ),
  ];

  async function ingestAll(opened: OpenedDatabase): Promise<Array<{ stored: number; duplicates: number; opened: number }>> {
    let t = Date.UTC(2026, 10, 20, 10, 0);
    const now = () => t++;
    const store = new SqlStore(opened.db, 'default', now);
    const results = [];
    for (const batch of batches) {
      const result = await ingestBatch({ store, clock: { now }, tenant: 'default' }, batch);
      results.push({ stored: result.stored.length, duplicates: result.duplicates, opened: result.opened.length });
    }
    return results;
  }

  async function rowsOf(opened: OpenedDatabase): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const table of ['conversations', 'events', 'outbox_jobs', 'attachments']) {
      out[table] = (await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} ORDER BY id`.execute(opened.db)).rows;
    }
    return out;
  }

  it('stores the same rows on both engines', async () => {
    const onPostgres = await ingestAll(postgres);
    const onSqlite = await ingestAll(sqlite);
    expect(onPostgres).toEqual(onSqlite);
    expect(onPostgres.reduce((n, r) => n + r.duplicates, 0)).toBe(2);
    const rows = await rowsOf(postgres);
    expect(rows.events).toHaveLength(11);
    expect(rows.outbox_jobs).toHaveLength(16);
    expect(rows).toEqual(await rowsOf(sqlite));
  });

  it('loads, prepares and records relay runs alike on both engines', async () => {
    const runsOf = async (opened: OpenedDatabase) => {
      // A chat longer than a References header reaches back.
      let t = Date.UTC(2026, 10, 21, 10, 0);
      const now = () => t++;
      const store = new SqlStore(opened.db, 'default', now);
      for (let i = 0; i < REFERENCES_DEPTH + 25; i += 1) {
        await ingestBatch({ store, clock: { now }, tenant: 'default' }, batchOf({ from: '447700900606', name: 'Fay Client', type: 'text', body: `long chat ${i}`, id: `wamid.long-${i}`, timestamp: at + 100 + i }));
      }
      const runs = new SqlRelayRuns(opened.db);
      const conversations = (await sql<{ id: number }>`SELECT id FROM conversations ORDER BY id`.execute(opened.db)).rows;
      const loaded = [];
      for (const { id } of conversations) {
        const events = (await sql<{ id: number }>`SELECT id FROM events WHERE conversation_id = ${id} ORDER BY seq`.execute(opened.db)).rows.map((e) => e.id);
        // The cover mail, every event, an event of another chat and one that does not exist.
        const eventIds = [null, ...events, id === 1 ? 4 : 1, 999_999];
        const first = await runs.load(id, eventIds);
        // Record the cover mail and the first event's mail as prepared, then one of them as sent.
        const fresh = first.slice(0, 2).flatMap((item, i) => (item.kind === 'new' ? [{ conversationId: id, eventId: eventIds[i]!, mailMessageId: `m-${id}-${i}@wa.firm.test`, rawSha256: `${id}${i}`.padStart(64, '0'), rawSize: 100 + i, preparedAt: 5_000 + i }] : []));
        await runs.prepare(fresh);
        const jobs = (await sql<{ id: number }>`SELECT id FROM outbox_jobs WHERE conversation_id = ${id} ORDER BY id LIMIT 1`.execute(opened.db)).rows.map((j) => j.id);
        await runs.record([{ mailMessageId: `m-${id}-0@wa.firm.test`, sentAt: 6_000, response: '250 2.0.0 "queued" as \\x{1}' }], jobs);
        loaded.push(first, await runs.load(id, eventIds), await runs.load(id, events.slice(-5)));
      }
      const relays = (await sql`SELECT * FROM mail_relays ORDER BY id`.execute(opened.db)).rows;
      const blobs = (await sql`SELECT * FROM blobs ORDER BY sha256`.execute(opened.db)).rows;
      const jobs = (await sql`SELECT * FROM outbox_jobs ORDER BY id`.execute(opened.db)).rows;
      return { loaded, relays, blobs, jobs };
    };
    const onPostgres = await runsOf(postgres);
    expect(onPostgres.relays.length).toBeGreaterThan(5);
    expect(onPostgres.loaded.flat().map((item) => item.kind)).toEqual(expect.arrayContaining(['existing', 'new', 'missing']));
    expect(onPostgres.loaded.flat().some((item) => item.kind === 'new' && item.facts.related !== undefined)).toBe(true);
    expect(onPostgres.loaded.flat().some((item) => item.kind === 'new' && item.facts.attachmentRows.length > 0)).toBe(true);
    const tail = onPostgres.loaded.at(-1)!;
    expect(tail.map((item) => (item.kind === 'new' ? item.facts.previous.length : -1))).toEqual([REFERENCES_DEPTH, REFERENCES_DEPTH, REFERENCES_DEPTH, REFERENCES_DEPTH, REFERENCES_DEPTH]);
    expect(onPostgres).toEqual(await runsOf(sqlite));
  });

  it('enqueues a job that uses the event id other than as a payload value after the insert, and stores it right', async () => {
    const store = new SqlStore(postgres.db, 'default');
    const [conversation] = (await sql<{ id: number; last_seq: number }>`SELECT id, last_seq FROM conversations ORDER BY id LIMIT 1`.execute(postgres.db)).rows;
    const event = batchOf({ from: '447700900101', name: 'Ann Client', type: 'text', body: 'odd job', id: 'wamid.same-12', timestamp: at + 9 }).events[0]!;
    const stored = await store.transaction((tx) =>
      appendEventRecord(executorOf(tx), 'default', 1_000, { conversationId: conversation!.id, seq: conversation!.last_seq + 1, channel: event.channel, waMessageId: event.waMessageId, kind: event.kind, versionKey: event.versionKey, direction: event.direction, timestamp: event.timestamp, event, chainHash: 'f'.repeat(64), receivedAt: 1_000 }, {
        advance: false,
        job: (eventId) => ({ kind: 'mail.relay', payload: { conversationId: conversation!.id, eventId }, conversationId: conversation!.id, sortKey: eventId }),
      }),
    );
    const job = (await sql<{ sort_key: number; payload_json: string }>`SELECT sort_key, payload_json FROM outbox_jobs ORDER BY id DESC LIMIT 1`.execute(postgres.db)).rows[0]!;
    expect(job).toEqual({ sort_key: stored.id, payload_json: JSON.stringify({ conversationId: conversation!.id, eventId: stored.id }) });
  });

  it('undoes only the failing webhooks of a group commit, statement errors included', async () => {
    const db = postgres.db;
    await sql`CREATE TABLE group_notes (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v TEXT NOT NULL UNIQUE)`.execute(db);
    const group = new GroupCommit(db);
    const insert = (v: string) => group.run(async (tx) => void (await sql`INSERT INTO group_notes (v) VALUES (${v})`.execute(executorOf(tx))));
    const throwing = (v: string) =>
      group.run(async (tx) => {
        await sql`INSERT INTO group_notes (v) VALUES (${v})`.execute(executorOf(tx));
        throw new Error(`${v} failed`);
      });
    // 'a' twice: the second insert breaks the unique key, which aborts the transaction until its unit is rolled back.
    const results = await Promise.allSettled([insert('a'), insert('a'), throwing('t1'), throwing('t2'), insert('b'), insert('b'), insert('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const stored = async () => (await sql<{ v: string }>`SELECT v FROM group_notes ORDER BY id`.execute(db)).rows.map((r) => r.v);
    expect(await stored()).toEqual(['a', 'b', 'c']);
    // Alone in its group, a failing unit leaves nothing, and the next one is unaffected.
    await expect(insert('a')).rejects.toThrow(/duplicate key/);
    await expect(throwing('t3')).rejects.toThrow('t3 failed');
    await insert('d');
    expect(await stored()).toEqual(['a', 'b', 'c', 'd']);
  });
});
