import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../bridge-server/src/channels/simulator/server.js';
import type { WebhookEnvelope } from '../../bridge-server/src/channels/simulator/builders.js';
import { countEvents } from '../../bridge-server/src/store/events.js';
import { liveBridgeEnv, outboxIdle, testSecrets, useBridgeOnMailStack, waitFor, waitForMailSettled } from '../support/bridge.js';
import { startBridgeProcess } from '../support/bridge-process.js';
import { fetchAll, waitForCount } from '../support/imap.js';
import { asRelayed, parseAll, sha256Hex } from '../support/mail-assert.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { freePort } from '../support/ports.js';
import { activeJobsIn, onPostgres, openRawStore } from '../support/test-database.js';

const waIdOf = (envelope: WebhookEnvelope): string => (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;

describe('faults: redelivery, bad signatures, SMTP outage', () => {
  const env = useBridgeOnMailStack();

  const mailsFor = async (waMessageId: string) =>
    (await parseAll(await fetchAll(env.stack, 'solicitor'))).filter((m) => m.header('x-whatsapp-message-id') === waMessageId);

  it('stores a webhook delivered three times once and sends one email', async () => {
    const envelope = env.world.simulator.inboundMessage({ from: '447700900111', name: 'Redelivery Client', type: 'text', body: 'sent once, delivered thrice' });
    const before = await countEvents(env.world.bridge.store.db);
    for (let i = 0; i < 3; i += 1) expect((await env.world.simulator.postWebhook(envelope)).status).toBe(200);
    expect(await countEvents(env.world.bridge.store.db)).toBe(before + 1);
    await waitForCount(env.stack, 'solicitor', 2, 30_000);
    await waitForMailSettled(env.stack, () => outboxIdle(env.world.bridge));
    expect(await mailsFor(waIdOf(envelope))).toHaveLength(1);
  });

  it('answers 401 to a bad or missing signature and stores nothing', async () => {
    const before = await countEvents(env.world.bridge.store.db);
    const jobsBefore = await env.world.bridge.outbox.counts();
    for (const signature of ['bad', 'none'] as const) {
      const envelope = env.world.simulator.inboundMessage({ from: '447700900222', name: 'Forged', type: 'text', body: 'forged' });
      const answer = await env.world.simulator.postWebhook(envelope, { signature });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body).code).toBe(signature === 'bad' ? 'signature_mismatch' : 'signature_missing');
    }
    expect(await countEvents(env.world.bridge.store.db)).toBe(before);
    expect(await env.world.bridge.outbox.counts()).toEqual(jobsBefore);
  });

  it('keeps 100 messages that arrive while SMTP is down and delivers each once when it is back', async () => {
    const already = (await fetchAll(env.stack, 'solicitor')).length;
    await env.stack.stopSmtp();
    const clients = ['447700900301', '447700900302', '447700900303'];
    const sent: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      const envelope = env.world.simulator.inboundMessage({ from: clients[i % 3]!, name: `Outage ${i % 3}`, type: 'text', body: `message ${i} during the outage` });
      sent.push(waIdOf(envelope));
      expect((await env.world.simulator.postWebhook(envelope)).status).toBe(200);
    }
    // Relays fail and back off while the server is away; the jobs stay pending with the reason.
    await waitFor(
      async () => (await env.world.bridge.outbox.list({ states: ['pending'] })).some((j) => (j.lastError ?? '').includes('SMTP connection failed')),
      20_000,
      async () => JSON.stringify(await env.world.bridge.outbox.counts()),
    );
    expect((await env.world.bridge.outbox.counts())['mail.relay'].needs_attention).toBe(0);
    // The bridge stays ready (webhooks are still stored) and says the SMTP server does not answer,
    // naming no host or address.
    const during = await fetch(`${env.world.bridge.url}/readyz`);
    expect(during.status).toBe(200);
    const duringBody = (await during.json()) as { status: string; smtp: { state: string; detail?: string } };
    expect(duringBody).toMatchObject({ status: 'ready', mailRoute: 'smtp', smtp: { state: 'unreachable' } });
    expect(duringBody.smtp.detail).toMatch(/^connection failed/);
    expect(duringBody.smtp.detail).not.toMatch(/127\.0\.0\.1|localhost|\d+\.\d+\.\d+\.\d+/);
    await env.stack.startSmtp();
    expect(await (await fetch(`${env.world.bridge.url}/readyz`)).json()).toMatchObject({ status: 'ready', smtp: { state: 'reachable' } });
    await waitForCount(env.stack, 'solicitor', already + 100 + clients.length, 60_000);
    await waitForMailSettled(env.stack, () => outboxIdle(env.world.bridge));
    const mails = await parseAll(await fetchAll(env.stack, 'solicitor'));
    for (const id of sent) expect(mails.filter((m) => m.header('x-whatsapp-message-id') === id), id).toHaveLength(1);
  });
});

// On PostgreSQL the same fault is shown with two instances, one of them killed mid-load, over
// 5,000 messages (tests/postgres/two-instances.test.ts); this single-process run is SQLite's.
describe.skipIf(onPostgres)('faults: the bridge killed with SIGKILL mid-relay', () => {
  let stack: MailStack;
  let simulator: Simulator;
  let dataDir: string;

  beforeAll(async () => {
    stack = await startMailStack();
    simulator = await startSimulator({ appSecret: testSecrets.appSecret, accessToken: testSecrets.accessToken });
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-kill-'));
  });
  afterAll(async () => {
    await simulator?.stop();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers every message after a restart and never sends one Message-ID with two contents', async () => {
    const port = await freePort();
    const env = liveBridgeEnv({ port, dataDir, smtpUrl: `smtp://127.0.0.1:${stack.smtpPort}`, mailbox: stack.mailbox, cloudApiBaseUrl: simulator.url });
    simulator.webhookUrl = `http://127.0.0.1:${port}/webhooks/whatsapp`;
    const first = await startBridgeProcess(env);

    const total = 400;
    const clients = Array.from({ length: 8 }, (_, i) => `44770090040${i}`);
    const envelopes = Array.from({ length: total }, (_, i) =>
      simulator.inboundMessage({ from: clients[i % clients.length]!, name: `Client ${i % clients.length}`, type: 'text', body: `message ${i}` }),
    );
    const acknowledged = new Set<number>();
    const post = async (i: number) => {
      try {
        if ((await simulator.postWebhook(envelopes[i]!)).status === 200) acknowledged.add(i);
      } catch {
        // connection refused after the kill: Meta would redeliver, and so does this test below
      }
    };
    // Post from 8 concurrent senders; kill the bridge once mail is flowing.
    let next = 0;
    const senders = Array.from({ length: 8 }, async () => {
      while (next < total) await post(next++);
    });
    await waitForCount(stack, 'solicitor', 25, 60_000);
    await first.kill('SIGKILL');
    await Promise.all(senders);
    const deliveredBeforeRestart = (await fetchAll(stack, 'solicitor')).length;
    expect(deliveredBeforeRestart).toBeLessThan(total + clients.length);
    // The kill left work behind: queued relays, and the WAL of a process that never closed.
    const left = await openRawStore(dataDir, { readonly: true });
    const queued = (await left.get<{ n: number }>("SELECT count(*) AS n FROM outbox_jobs WHERE kind = 'mail.relay'"))!.n;
    await left.close();
    expect(queued).toBeGreaterThan(0);

    const second = await startBridgeProcess(env);
    try {
      for (let i = 0; i < total; i += 1) if (!acknowledged.has(i)) await post(i);
      expect(acknowledged.size).toBe(total);
      await waitForCount(stack, 'solicitor', total + clients.length, 90_000);
      await waitForMailSettled(stack, async () => (await activeJobsIn(dataDir)) === 0);
    } finally {
      await second.kill('SIGTERM');
    }

    const mails = await parseAll(await fetchAll(stack, 'solicitor'));
    const contents = new Map<string, Set<string>>();
    for (const mail of mails) {
      const id = mail.parsed.messageId!;
      contents.set(id, (contents.get(id) ?? new Set()).add(sha256Hex(asRelayed(mail.raw))));
    }
    for (const [id, variants] of contents) expect(variants.size, `${id} was sent with different contents`).toBe(1);
    const delivered = new Set(mails.map((m) => m.header('x-whatsapp-message-id')));
    for (const envelope of envelopes) expect(delivered.has(waIdOf(envelope))).toBe(true);
    expect(contents.size).toBe(total + clients.length);
    // Two bridge starts, 400 webhooks and the waits above (up to 60 s and 90 s) need more than the default minute.
  }, 240_000);
});
