import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { inboundMessage, type InboundMessageInput } from '../../bridge-server/src/channels/simulator/builders.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import { OutboxWorker } from '../../bridge-server/src/outbox/worker.js';
import { listMigrations, type OpenedDatabase } from '../../bridge-server/src/store/db.js';
import type { Job } from '../../bridge-server/src/core/records.js';
import { listEvents } from '../../bridge-server/src/store/events.js';
import { SqlOutbox } from '../../bridge-server/src/store/outbox.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { openTestDatabase, testEngine } from '../support/test-database.js';

const clock = { now: () => Date.now() };
const batchOf = (input: InboundMessageInput) => normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(inboundMessage(input)))));

describe(`${testEngine === 'postgres' ? 'PostgreSQL' : 'SQLite'} store, ingest and outbox`, () => {
  let dir: string;
  let opened: OpenedDatabase;
  let store: SqlStore;
  let outbox: SqlOutbox;
  const ingest = (input: InboundMessageInput) => ingestBatch({ store, clock, tenant: 'default' }, batchOf(input));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-store-'));
    opened = await openTestDatabase(dir);
    store = new SqlStore(opened.db, 'default');
    outbox = new SqlOutbox(opened.db);
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs every migration from empty once, and again is a no-op', async () => {
    // Every migration in the folder, in name order (later issues add their own numbers).
    expect(opened.kind).toBe(testEngine);
    expect(opened.applied).toEqual(listMigrations(testEngine).map((m) => m.name));
    expect(opened.applied.slice(0, 2)).toEqual(['0001-initial', '0002-outbound']);
    await opened.close();
    opened = await openTestDatabase(dir);
    expect(opened.applied).toEqual([]);
    if (testEngine === 'sqlite') {
      const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(opened.db);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
    } else {
      const version = await sql<{ version: string }>`SELECT version() AS version`.execute(opened.db);
      expect(version.rows[0]?.version).toMatch(/^PostgreSQL /);
    }
  });

  it('opens a conversation with its cover job on first contact and keeps each event once', async () => {
    const input: InboundMessageInput = { from: '447700900123', name: 'Jane Smith', type: 'text', body: 'hello', id: 'wamid.fixed-1' };
    const first = await ingest(input);
    expect(first.opened).toHaveLength(1);
    expect(first.stored).toHaveLength(1);
    const again = await ingest(input);
    expect(again).toMatchObject({ stored: [], duplicates: 1, opened: [] });
    const jobs = await outbox.list({ states: ['pending'] });
    expect(jobs.map((j) => [j.kind, j.conversationId])).toEqual([
      ['mail.relay', first.opened[0]!.id],
      ['mail.relay', first.opened[0]!.id],
    ]);
  });

  it('links events into a per-conversation chain, each link over the previous one', async () => {
    const a = await ingest({ from: '447700900123', name: 'Jane', type: 'text', body: 'one' });
    const b = await ingest({ from: '447700900123', name: 'Jane', type: 'text', body: 'two' });
    const events = await listEvents(opened.db, a.stored[0]!.conversationId);
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
    expect(events[1]!.chainHash).toBe(b.stored[0]!.chainHash);
    expect(events[0]!.chainHash).not.toBe(events[1]!.chainHash);
    const conversation = await store.transaction((tx) => store.getConversation(tx, a.stored[0]!.conversationId));
    expect(conversation?.chainHead).toBe(events[1]!.chainHash);
  });

  it('refuses to update or delete an archived event', async () => {
    await ingest({ from: '447700900123', name: 'Jane', type: 'text', body: 'on the record' });
    await expect(sql`UPDATE events SET event_json = '{}'`.execute(opened.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM events`.execute(opened.db)).rejects.toThrow(/append-only/);
  });

  it('keeps one chat when the business-scoped user id appears after the phone number', async () => {
    const byPhone = await ingest({ from: '447700900123', name: 'Jane', type: 'text', body: 'before usernames' });
    const withUserId = await ingest({ from: '447700900123', userId: 'GB.1502576394655843', name: 'Jane', type: 'text', body: 'after' });
    const onlyUserId = await ingest({ from: '', userId: 'GB.1502576394655843', name: 'Jane', type: 'text', body: 'number withheld' });
    const ids = [byPhone, withUserId, onlyUserId].map((r) => r.stored[0]!.conversationId);
    expect(new Set(ids).size).toBe(1);
  });

  it('queues a media download, not a relay, for a media message', async () => {
    await ingest({ from: '447700900123', name: 'Jane', type: 'document', media: { id: '9911', mimeType: 'application/pdf' }, filename: 'lease.pdf' });
    const kinds = (await outbox.list({ states: ['pending'] })).map((j) => j.kind);
    expect(kinds).toEqual(['mail.relay', 'media.fetch']);
  });

  it('claims one job per conversation at a time, in order, and parked jobs do not block the chat', async () => {
    for (const body of ['a', 'b', 'c']) await ingest({ from: '447700900123', name: 'Jane', type: 'text', body });
    await ingest({ from: '447700900456', name: 'Bob', type: 'text', body: 'x' });
    const now = Date.now();
    const first = await outbox.claim(10, now, 60_000);
    expect(first.map((j) => [j.conversationId, j.sortKey])).toEqual([
      [first[0]!.conversationId, 0],
      [first[1]!.conversationId, 0],
    ]);
    expect(new Set(first.map((j) => j.conversationId)).size).toBe(2);
    expect(await outbox.claim(10, now, 60_000)).toEqual([]);

    const jane = first[0]!;
    await store.transaction((tx) => outbox.complete(tx, jane.id));
    const second = await outbox.claim(10, now, 60_000);
    expect(second.map((j) => j.sortKey)).toEqual([1]);
    await outbox.park(second[0]!.id, 'permanent failure');
    const third = await outbox.claim(10, now, 60_000);
    expect(third.map((j) => j.sortKey)).toEqual([2]);
    expect((await outbox.counts())['mail.relay'].needs_attention).toBe(1);
  });

  it('claims no more runs than asked, earliest due first, each no longer than asked', async () => {
    const chats = ['447700900123', '447700900456', '447700900789'];
    for (const from of chats) for (const body of ['a', 'b', 'c']) await ingest({ from, name: 'Client', type: 'text', body });
    const now = Date.now();
    const runs = await outbox.claimRuns(2, now, 60_000, 2);
    // The covers of the first two chats opened, each with the chat's first message behind it.
    expect(runs.map((run) => run.map((j) => j.sortKey))).toEqual([
      [0, 1],
      [0, 1],
    ]);
    const byChat = await outbox.claimRuns(5, now, 60_000, 2);
    expect(byChat).toHaveLength(1);
    expect(new Set([...runs, ...byChat].map((run) => run[0]!.conversationId)).size).toBe(3);
    expect(await outbox.claimRuns(5, now, 60_000, 2)).toEqual([]);
  });

  it('keeps WhatsApp sends in their own lane, so a stuck mail relay never holds back a reply', async () => {
    const { stored } = await ingest({ from: '447700900123', name: 'Jane', type: 'text', body: 'a' });
    const conversationId = stored[0]!.conversationId;
    const now = Date.now();
    const [cover] = await outbox.claim(10, now, 60_000);
    await outbox.reschedule(cover!.id, now + 60_000, 'SMTP connection failed');
    await store.transaction((tx) => store.enqueue(tx, { kind: 'wa.send', payload: { conversationId, commandId: 1 }, conversationId, lane: 'whatsapp', sortKey: 5 }));
    const claimed = await outbox.claim(10, Date.now(), 60_000);
    expect(claimed.map((j) => [j.kind, j.conversationId, j.lane])).toEqual([['wa.send', conversationId, 'whatsapp']]);
  });

  it('holds a rescheduled head back until it is due, with the chat waiting behind it', async () => {
    for (const body of ['a', 'b']) await ingest({ from: '447700900123', name: 'Jane', type: 'text', body });
    const now = Date.now();
    const [cover] = await outbox.claim(10, now, 60_000);
    await outbox.reschedule(cover!.id, now + 5_000, 'SMTP connection failed');
    expect(await outbox.claim(10, now, 60_000)).toEqual([]);
    const due = await outbox.claim(10, now + 5_000, 60_000);
    expect(due.map((j) => [j.id, j.attempts])).toEqual([[cover!.id, 2]]);
  });

  it('gives running jobs back after their lease runs out (a crashed worker)', async () => {
    await ingest({ from: '447700900123', name: 'Jane', type: 'text', body: 'a' });
    const now = Date.now();
    const claimed = await outbox.claim(10, now, 1_000);
    expect(claimed).toHaveLength(1);
    expect(await outbox.recoverExpired(now + 500)).toBe(0);
    expect(await outbox.recoverExpired(now + 1_000)).toBe(1);
    expect((await outbox.claim(10, now + 1_000, 1_000)).map((j) => j.id)).toEqual([claimed[0]!.id]);
  });

  it('gives back, untried, the jobs a claim takes while its worker is stopping', async () => {
    for (const body of ['one', 'two', 'three']) await ingest({ from: '447700900191', name: 'Stopping', type: 'text', body });
    // The worker's claim is held after the store has marked its jobs running, until the worker is told to stop.
    let claimed!: () => void;
    const claimMade = new Promise<void>((resolve) => (claimed = resolve));
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    const holding = Object.create(outbox) as SqlOutbox;
    holding.claimRuns = async (...args: Parameters<SqlOutbox['claimRuns']>) => {
      const runs = await outbox.claimRuns(...args);
      if (runs.length > 0) {
        claimed();
        await held;
      }
      return runs;
    };
    const ran: number[] = [];
    const handle = async (job: Job) => void ran.push(job.id);
    const worker = new OutboxWorker(
      holding,
      { 'mail.relay': handle, 'media.fetch': handle, 'wa.send': handle, 'mail.notice': handle },
      {
        concurrency: 4,
        leaseMs: 60_000,
        pollMs: 1_000,
        retry: { baseDelayMs: 100, maxDelayMs: 100 },
        clock,
        runs: { handlers: { 'mail.relay': async (jobs) => ((ran.push(...jobs.map((job) => job.id)), { done: jobs.length })) }, maxLength: 32 },
      },
    );
    await worker.start(true);
    await claimMade;
    expect((await outbox.list({ states: ['running'] })).length).toBe(4);
    const stopped = worker.stop();
    letGo();
    await stopped;
    // Anything the claim would still set off has had its turn.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ran).toEqual([]);
    const jobs = await outbox.list({});
    expect(jobs.map((job) => [job.state, job.attempts])).toEqual([
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
    ]);
  });
});
