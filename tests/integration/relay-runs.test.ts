import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { inboundMessage, type InboundMessageInput } from '../../bridge-server/src/channels/simulator/builders.js';
import { UpstreamError } from '../../bridge-server/src/core/errors.js';
import type { Job } from '../../bridge-server/src/core/records.js';
import { fetchMedia } from '../../bridge-server/src/flows/fetch-media.js';
import { ingestBatch, ingestInTransaction } from '../../bridge-server/src/flows/ingest.js';
import { relayRun, type RelayDeps } from '../../bridge-server/src/flows/relay.js';
import { DeterministicComposer } from '../../bridge-server/src/mail/compose/composer.js';
import { SmtpTransport } from '../../bridge-server/src/mail/transport/smtp.js';
import { OutboxWorker } from '../../bridge-server/src/outbox/worker.js';
import { FileBlobStore } from '../../bridge-server/src/store/blob-files.js';
import { GroupCommit } from '../../bridge-server/src/store/group-commit.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { SqlOutbox } from '../../bridge-server/src/store/outbox.js';
import { listRelays, SqlRelayRuns } from '../../bridge-server/src/store/relays.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { waitFor } from '../support/bridge.js';
import { openTestDatabase } from '../support/test-database.js';

const clock = { now: () => Date.now() };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const batchOf = (input: InboundMessageInput) => normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(inboundMessage(input)))));

interface Received {
  body: string;
  raw: Buffer;
}

/**
 * A real SMTP server that answers 451 (try again later) to a mail whose text contains one of the
 * `refuse` words, each once, and keeps what it accepted in arrival order.
 */
async function startFlakySmtp(refuse: string[]): Promise<{ url: string; received: Received[]; refused: string[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const refused: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = /Run message (\w+)/.exec(raw.toString('latin1'))?.[1] ?? 'cover';
        const index = refuse.indexOf(body);
        if (index >= 0) {
          refuse.splice(index, 1);
          refused.push(body);
          const error = Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 });
          callback(error);
          return;
        }
        received.push({ body, raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `smtp://127.0.0.1:${port}`, received, refused, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

// The relay's writes on their own, and (as the bridge runs them on SQLite) in the group commit the
// webhooks' writes go through; PostgreSQL keeps its own statements either way.
describe.each([
  ['alone', false],
  ['in the webhooks’ group commit', true],
])('relaying a conversation’s queued mails as one run, its writes %s', (_how, grouped) => {
  let dir: string;
  let opened: OpenedDatabase;
  let store: SqlStore;
  let outbox: SqlOutbox;
  let blobs: FileBlobStore;
  let deps: Omit<RelayDeps, 'transport'>;
  let conversationId: number;
  const words = ['one', 'two', 'three', 'four', 'five'];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-runs-'));
    opened = await openTestDatabase(dir);
    store = new SqlStore(opened.db, 'default');
    outbox = new SqlOutbox(opened.db);
    blobs = new FileBlobStore(path.join(dir, 'blobs'));
    deps = {
      store,
      outbox,
      blobs,
      composer: new DeterministicComposer(),
      clock,
      tenant: 'default',
      mailDomain: 'wa.firm.test',
      timeZone: 'Europe/London',
      mailbox: 'solicitor@firm.test',
      envelopeFrom: 'bridge@wa.firm.test',
      replySecret: Buffer.from('0123456789abcdef0123456789abcdef'),
      runs: new SqlRelayRuns(opened.db, grouped ? new GroupCommit(opened.db) : undefined),
    };
    for (const word of words) {
      const { stored } = await ingestBatch({ store, clock, tenant: 'default' }, batchOf({ from: '447700900321', name: 'Run Client', type: 'text', body: `Run message ${word}` }));
      conversationId = stored[0]!.conversationId;
    }
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('claims a conversation’s queued relays as one ordered run, stopping at another kind of job', async () => {
    await ingestBatch({ store, clock, tenant: 'default' }, batchOf({ from: '447700900321', name: 'Run Client', type: 'document', media: { id: '77', mimeType: 'application/pdf' }, filename: 'a.pdf' }));
    await ingestBatch({ store, clock, tenant: 'default' }, batchOf({ from: '447700900321', name: 'Run Client', type: 'text', body: 'Run message after' }));
    const runs = await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay']);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.map((j) => [j.kind, j.sortKey, j.state, j.attempts])).toEqual([
      ['mail.relay', 0, 'running', 1],
      ...words.map((_, i) => ['mail.relay', i + 1, 'running', 1]),
    ]);
    // The media download and everything behind it wait for the run.
    expect(await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay'])).toEqual([]);

    // Jobs given back untried are pending again with their claim not counted.
    await outbox.release(runs[0]!.slice(2).map((j) => j.id));
    const pending = await outbox.list({ states: ['pending'] });
    expect(pending.filter((j) => j.kind === 'mail.relay' && runs[0]!.slice(2).some((r) => r.id === j.id)).map((j) => j.attempts)).toEqual([0, 0, 0, 0]);
  });

  it('cuts a run at a job not yet due and at its length limit, and claims no job twice', async () => {
    const [all] = await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay']);
    expect(all!.map((j) => j.sortKey)).toEqual([0, 1, 2, 3, 4, 5]);
    await outbox.release(all!.map((j) => j.id));
    const queued = all!;
    // The third message waits for a retry a minute from now: the run stops before it.
    await outbox.reschedule(queued[3]!.id, Date.now() + 60_000, 'try again later');
    const capped = await outbox.claimRuns(10, Date.now(), 60_000, 2, ['mail.relay']);
    expect(capped.map((run) => run.map((j) => j.sortKey))).toEqual([[0, 1]]);
    await outbox.release(capped[0]!.map((j) => j.id));
    const cut = await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay']);
    expect(cut.map((run) => run.map((j) => [j.sortKey, j.state, j.attempts]))).toEqual([
      [
        [0, 'running', 1],
        [1, 'running', 1],
        [2, 'running', 1],
      ],
    ]);
    // The lane is held by its running jobs: nothing more to claim until they finish.
    expect(await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay'])).toEqual([]);
  });

  it('claims several conversations’ lanes at once, each run holding only its own conversation’s jobs, in order', async () => {
    const others = ['447700900322', '447700900323'];
    for (const [n, from] of others.entries()) {
      for (let i = 0; i <= n + 1; i += 1) await ingestBatch({ store, clock, tenant: 'default' }, batchOf({ from, name: `Other ${n}`, type: 'text', body: `Other ${n} message ${i}` }));
    }
    const runs = await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay']);
    expect(runs).toHaveLength(3);
    const byConversation = new Map(runs.map((run) => [run[0]!.conversationId, run]));
    expect(byConversation.size).toBe(3);
    // Each lane: the cover mail (sort key 0), then its messages in order, and nothing of another lane.
    expect(byConversation.get(conversationId)!.map((j) => j.sortKey)).toEqual([0, 1, 2, 3, 4, 5]);
    const otherLanes = runs.filter((run) => run[0]!.conversationId !== conversationId);
    expect(otherLanes.map((run) => run.map((j) => j.sortKey)).sort((a, b) => a.length - b.length)).toEqual([
      [0, 1, 2],
      [0, 1, 2, 3],
    ]);
    for (const run of runs) {
      expect(new Set(run.map((j) => j.conversationId)).size).toBe(1);
      expect(run.every((j) => j.kind === 'mail.relay' && j.state === 'running')).toBe(true);
    }
    // A shorter run limit cuts each lane, not the claim.
    await outbox.release(runs.flat().map((j) => j.id));
    const short = await outbox.claimRuns(10, Date.now(), 60_000, 2, ['mail.relay']);
    expect(short.map((run) => run.map((j) => j.sortKey))).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
  });

  it('reads the facts of several conversations’ runs started together exactly as it reads each alone', async () => {
    // A second and third conversation: one with a quote of its first message, one whose cover
    // mail is already recorded (so only its message is new).
    const second = await ingestBatch({ store, clock, tenant: 'default' }, batchOf({ from: '447700900324', name: 'Second', type: 'text', body: 'Second first' }));
    const secondId = second.stored[0]!.conversationId;
    await ingestBatch({ store, clock, tenant: 'default' }, batchOf({ from: '447700900324', name: 'Second', type: 'text', body: 'Second quoting', context: { id: second.stored[0]!.waMessageId } }));
    const third = await ingestBatch({ store, clock, tenant: 'default' }, batchOf({ from: '447700900325', name: 'Third', type: 'text', body: 'Third first' }));
    const thirdId = third.stored[0]!.conversationId;
    const runs = await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay']);
    const idsOf = (cid: number) => runs.find((run) => run[0]!.conversationId === cid)!.flatMap((job) => (job.kind === 'mail.relay' ? [(job.payload as { eventId: number | null }).eventId] : []));
    const relayRuns = deps.runs!;
    // The third conversation's cover mail is recorded already: it loads as an existing relay.
    await relayRuns.prepare([{ conversationId: thirdId, eventId: null, mailMessageId: 'cover.third@wa.firm.test', rawSha256: sha(Buffer.from('cover')), rawSize: 5, preparedAt: 1 }]);
    const requests = [conversationId, secondId, thirdId].map((cid) => ({ cid, ids: idsOf(cid) }));
    expect(requests.map((r) => r.ids.length)).toEqual([6, 3, 2]);
    // Each alone, then all three in the same turn of the event loop, plus one id of another conversation.
    const alone = [];
    for (const r of requests) alone.push(await relayRuns.load(r.cid, r.ids));
    const together = await Promise.all([...requests.map((r) => relayRuns.load(r.cid, r.ids)), relayRuns.load(secondId, [third.stored[0]!.id])]);
    expect(together.slice(0, 3)).toEqual(alone);
    expect(together[3]).toEqual([{ kind: 'missing', reason: `event ${third.stored[0]!.id} is not in the store` }]);
    // And what was read is right: the cover relay found, the quote resolved, the keys before each.
    expect(alone[2]![0]).toMatchObject({ kind: 'existing', relay: { mailMessageId: 'cover.third@wa.firm.test' } });
    const quoting = alone[1]!.at(-1)!;
    expect(quoting.kind === 'new' && quoting.facts.related?.waMessageId).toBe(second.stored[0]!.waMessageId);
    expect(quoting.kind === 'new' && quoting.facts.previous.map((k) => k.seq)).toEqual([1]);
    expect(alone[0]!.map((item) => item.kind)).toEqual(['new', 'new', 'new', 'new', 'new', 'new']);
    expect(alone[0]!.at(-1)!.kind === 'new' && (alone[0]!.at(-1) as { facts: { previous: unknown[] } }).facts.previous).toHaveLength(4);
  });

  it('fails a write that breaks the store’s rules alone: the webhook written beside it is kept, and so is every other relay', async () => {
    const group = new GroupCommit(opened.db);
    const runs = new SqlRelayRuns(opened.db, grouped ? group : undefined);
    const first = { conversationId, eventId: null, mailMessageId: 'cover.rules@wa.firm.test', rawSha256: sha(Buffer.from('cover')), rawSize: 5, preparedAt: 1 };
    await runs.prepare([first]);
    // In one pass of the event loop: the same cover mail again (one relay per event), another
    // client's webhook through the group, and a sent mark that is fine.
    const [again, webhook, marked] = await Promise.allSettled([
      runs.prepare([{ ...first, mailMessageId: 'cover.rules-again@wa.firm.test' }]),
      group.run((tx) => ingestInTransaction({ store, clock, tenant: 'default' }, tx, batchOf({ from: '447700900399', name: 'Beside', type: 'text', body: 'Written beside' }))),
      runs.record([{ mailMessageId: first.mailMessageId, sentAt: 2, response: '250 ok' }], []),
    ]);
    expect(again.status).toBe('rejected');
    expect(String((again as PromiseRejectedResult).reason)).toMatch(/UNIQUE|unique|duplicate/);
    expect(webhook.status).toBe('fulfilled');
    expect(marked.status).toBe('fulfilled');
    const relays = await listRelays(opened.db, conversationId);
    expect(relays.map((r) => [r.mailMessageId, r.state, r.sentAt])).toEqual([['cover.rules@wa.firm.test', 'sent', 2]]);
    const stored = (webhook as PromiseFulfilledResult<{ stored: Array<{ conversationId: number }> }>).value.stored;
    expect(await store.read((tx) => store.getConversation(tx, stored[0]!.conversationId))).toMatchObject({ clientName: 'Beside' });
  });

  it('records the mails before a failure as sent, keeps the failed one prepared, and sends none after it', async () => {
    const smtp = await startFlakySmtp(['three']);
    const transport = new SmtpTransport({ url: smtp.url, maxConnections: 2 });
    try {
      const [run] = (await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay'])) as Array<Array<Job<'mail.relay'>>>;
      expect(run).toHaveLength(6);
      const result = await relayRun({ ...deps, transport }, run!);
      expect(result.done).toBe(3);
      expect(result.error).toBeInstanceOf(UpstreamError);
      expect((result.error as UpstreamError).retry).toBe('transient');
      expect(smtp.received.map((m) => m.body)).toEqual(['cover', 'one', 'two']);

      const relays = await listRelays(opened.db, conversationId);
      // Every mail of the run had its bytes stored before the first send.
      expect(relays.map((r) => r.state)).toEqual(['sent', 'sent', 'sent', 'prepared', 'prepared', 'prepared']);
      for (const [i, mail] of smtp.received.entries()) expect(sha(mail.raw)).toBe(relays[i]!.rawSha256);
      const left = await outbox.list({});
      expect(left.map((j) => j.id)).toEqual(run!.slice(3).map((j) => j.id));

      // Sending again from the failed mail on: the same bytes that were prepared, in order.
      await outbox.release(run!.slice(3).map((j) => j.id));
      const [rest] = (await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay'])) as Array<Array<Job<'mail.relay'>>>;
      expect(rest!.map((j) => j.id)).toEqual(run!.slice(3).map((j) => j.id));
      const second = await relayRun({ ...deps, transport }, rest!);
      expect(second).toMatchObject({ done: 3 });
      expect(second.error).toBeUndefined();
      expect(smtp.received.map((m) => m.body)).toEqual(['cover', 'one', 'two', 'three', 'four', 'five']);
      const after = await listRelays(opened.db, conversationId);
      expect(after.every((r) => r.state === 'sent')).toBe(true);
      for (const [i, mail] of smtp.received.entries()) expect(sha(mail.raw)).toBe(after[i]!.rawSha256);
      expect(await outbox.list({})).toEqual([]);
    } finally {
      await transport.close();
      await smtp.stop();
    }
  });

  it('through the worker: retries the failed mail with backoff and delivers the rest after it, in order', async () => {
    const smtp = await startFlakySmtp(['two', 'four']);
    const transport = new SmtpTransport({ url: smtp.url, maxConnections: 4 });
    const retried: Array<{ id: number; attempts: number }> = [];
    const worker = new OutboxWorker(
      outbox,
      {
        'mail.relay': async () => {
          throw new Error('runs of one are not expected here');
        },
        'media.fetch': async () => undefined,
        'wa.send': async () => undefined,
        'mail.notice': async () => undefined,
      },
      {
        concurrency: 4,
        leaseMs: 60_000,
        pollMs: 20,
        retry: { baseDelayMs: 30, maxDelayMs: 30 },
        clock,
        runs: { handlers: { 'mail.relay': (jobs) => relayRun({ ...deps, transport }, jobs as Array<Job<'mail.relay'>>) }, maxLength: 32 },
        events: { onRetry: (job) => retried.push({ id: job.id, attempts: job.attempts }) },
      },
    );
    try {
      await worker.start(true);
      await waitFor(() => smtp.received.length >= 6, 10_000, () => `received ${smtp.received.map((m) => m.body).join(', ')}`);
      await waitFor(async () => (await outbox.list({})).length === 0, 5_000, () => 'jobs left in the outbox');
      expect(smtp.refused).toEqual(['two', 'four']);
      expect(smtp.received.map((m) => m.body)).toEqual(['cover', 'one', 'two', 'three', 'four', 'five']);
      // Each refused mail failed once, on its first attempt (a release does not count one).
      expect(retried.map((r) => r.attempts)).toEqual([1, 1]);
      const relays = await listRelays(opened.db, conversationId);
      for (const [i, mail] of smtp.received.entries()) expect(sha(mail.raw)).toBe(relays[i]!.rawSha256);
    } finally {
      await worker.stop();
      await transport.close();
      await smtp.stop();
    }
  });

  it('ends a run where its attachments pass the budget, and relays the rest untried in the next run, in order', async () => {
    // Another chat: its cover mail, then three documents of 40 KiB each, downloaded.
    const pdf = (n: number) => Buffer.alloc(40 * 1024, n);
    for (const n of [1, 2, 3]) {
      await ingestBatch({ store, clock, tenant: 'default' }, batchOf({ from: '447700900654', name: 'Doc Client', type: 'document', media: { id: `doc-${n}`, mimeType: 'application/pdf' }, filename: `part-${n}.pdf` }));
    }
    const fetcher = { fetch: async (ref: { waMediaId: string }) => ({ bytes: pdf(Number(ref.waMediaId.slice(4))), mimeType: 'application/pdf' }) };
    // The downloads, as the worker would run them once each is due (only what fetchMedia reads of a job).
    const fetches = await opened.db.selectFrom('outbox_jobs').select(['id', 'payload_json', 'sort_key']).where('kind', '=', 'media.fetch').orderBy('id').execute();
    expect(fetches).toHaveLength(3);
    for (const row of fetches) {
      const job = { id: row.id, kind: 'media.fetch', payload: JSON.parse(row.payload_json), sortKey: row.sort_key } as Job<'media.fetch'>;
      await fetchMedia({ store, outbox, blobs, fetchers: { 'cloud-api': fetcher } }, job);
    }
    const smtp = await startFlakySmtp([]);
    const transport = new SmtpTransport({ url: smtp.url, maxConnections: 1 });
    // Room for two documents' attachments, not three.
    const budgeted = { ...deps, transport, runAttachmentBytes: 100 * 1024 };
    try {
      const runs = (await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay'])) as Array<Array<Job<'mail.relay'>>>;
      const docs = runs.find((run) => run.length === 4)!;
      expect(docs).toBeDefined();
      const first = await relayRun(budgeted, docs);
      // The cover mail and two documents; the third not tried, and no error.
      expect(first).toEqual({ done: 3, outcomes: expect.any(Array) });
      expect(smtp.received).toHaveLength(3);
      await outbox.release(docs.slice(3).map((j) => j.id));
      const untried = (await outbox.list({ states: ['pending'] })).filter((j) => j.id === docs[3]!.id);
      expect(untried.map((j) => j.attempts)).toEqual([0]);

      const next = (await outbox.claimRuns(10, Date.now(), 60_000, 32, ['mail.relay'])) as Array<Array<Job<'mail.relay'>>>;
      const rest = next.find((run) => run[0]!.id === docs[3]!.id)!;
      expect(rest.map((j) => j.id)).toEqual([docs[3]!.id]);
      expect(await relayRun(budgeted, rest)).toEqual({ done: 1, outcomes: expect.any(Array) });
      // Each document in its own mail, in the order they came, the bytes as downloaded.
      const attached = smtp.received.slice(1).map((m) => /filename="?(part-\d)\.pdf/.exec(m.raw.toString('latin1'))?.[1]);
      expect(attached).toEqual(['part-1', 'part-2', 'part-3']);
      for (const [i, mail] of smtp.received.slice(1).entries()) expect(mail.raw.toString('latin1').replace(/\r\n/g, '')).toContain(pdf(i + 1).toString('base64'));
      const relays = await listRelays(opened.db, docs[0]!.conversationId!);
      expect(relays.every((r) => r.state === 'sent')).toBe(true);
    } finally {
      await transport.close();
      await smtp.stop();
    }
  });
});
