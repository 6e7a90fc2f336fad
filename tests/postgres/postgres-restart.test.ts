import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookEnvelope } from '../../bridge-server/src/channels/simulator/builders.js';
import { startSimulator, type Simulator } from '../../bridge-server/src/channels/simulator/server.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { liveBridgeEnv, postSignedWebhook, testSecrets, waitFor } from '../support/bridge.js';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { rawHeader } from '../support/mail-assert.js';
import { freePort } from '../support/ports.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';

const waIdOf = (envelope: WebhookEnvelope): string => (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;

/**
 * PostgreSQL restarted (fast shutdown: every connection cut) while webhooks arrive and mail is
 * relayed. Webhooks refused meanwhile are redelivered, as Meta does; afterwards every message is
 * stored once and relayed, and no Message-ID went out with two contents.
 */
describe('PostgreSQL restarted mid-load', () => {
  let postgres: PrivatePostgres;
  let catcher: MailCatcher;
  let simulator: Simulator;
  let bridge: BridgeProcess;
  let dataDir: string;
  let url = '';

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    const admin = new pg.Client({ connectionString: postgres.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE wa_bridge');
    await admin.end();
    catcher = await startMailCatcher({ keep: 10_000 });
    simulator = await startSimulator({ appSecret: testSecrets.appSecret, accessToken: testSecrets.accessToken });
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-pg-restart-'));
    const port = await freePort();
    bridge = await startBridgeProcess({
      ...liveBridgeEnv({ port, dataDir, smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', cloudApiBaseUrl: simulator.url }),
      WA_BRIDGE_DATABASE_URL: postgres.url('wa_bridge'),
      WA_BRIDGE_RETENTION_SCHEDULE: 'off',
      // A job whose outcome could not be recorded while the database was away comes back when its
      // claim runs out; a short lease keeps that wait short here.
      WA_BRIDGE_JOB_LEASE_SECONDS: '6',
    });
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await bridge?.kill('SIGTERM').catch(() => undefined);
    await simulator?.stop();
    await catcher?.stop();
    await postgres?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loses nothing and sends nothing twice with different contents', async () => {
    const clients = Array.from({ length: 10 }, (_, i) => `4477009009${String(i).padStart(2, '0')}`);
    const total = 300;
    const envelopes = Array.from({ length: total }, (_, i) => simulator.inboundMessage({ from: clients[i % clients.length]!, name: `Client ${i % clients.length}`, type: 'text', body: `message ${i} across the restart` }));
    const refused: number[] = [];
    const everRefused = new Set<number>();
    const post = (i: number) => postSignedWebhook(url, envelopes[i]!);
    let next = 0;
    let restarted = false;
    const senders = Array.from({ length: 8 }, async () => {
      while (next < total) {
        const i = next++;
        if (i === total / 3 && !restarted) {
          restarted = true;
          await postgres.restart();
        }
        if (!(await post(i))) {
          refused.push(i);
          everRefused.add(i);
        }
      }
    });
    await Promise.all(senders);
    expect(restarted).toBe(true);
    console.info(`postgres-restart: ${everRefused.size} of ${total} webhooks refused while the database restarted, then redelivered`);
    // Meta redelivers what was not answered 200; so does this test, until each is taken.
    const deadline = Date.now() + 60_000;
    while (refused.length > 0) {
      const i = refused.shift()!;
      if (!(await post(i))) {
        if (Date.now() > deadline) throw new Error(`webhook ${i} still refused a minute after the restart:\n${bridge.output().slice(-3000)}`);
        refused.push(i);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    // The same process throughout: losing its connections did not bring it down.
    expect(bridge.child.exitCode).toBeNull();
    await waitFor(() => new Set(catcher.mails().map((m) => rawHeader(m.raw, 'message-id'))).size >= total + clients.length, 120_000, () => `${catcher.mails().length} mails caught`);
    const mails = catcher.mails();
    const contents = new Map<string, Set<string>>();
    for (const mail of mails) {
      const id = rawHeader(mail.raw, 'message-id')!;
      contents.set(id, (contents.get(id) ?? new Set()).add(mail.sha256));
    }
    expect(contents.size).toBe(total + clients.length);
    for (const [id, variants] of contents) expect(variants.size, `${id} went out with different contents`).toBe(1);
    const relayed = new Set(mails.map((m) => rawHeader(m.raw, 'x-whatsapp-message-id')));
    for (const envelope of envelopes) expect(relayed.has(waIdOf(envelope)), waIdOf(envelope)).toBe(true);

    // Stored once each: the archive has exactly one event per message, in one unbroken chain per chat.
    const check = new pg.Client({ connectionString: postgres.url('wa_bridge') });
    await check.connect();
    try {
      const events = await check.query<{ n: string }>('SELECT count(*) AS n FROM events');
      expect(Number(events.rows[0]!.n)).toBe(total);
      const gaps = await check.query('SELECT c.id FROM conversations c WHERE c.last_seq <> (SELECT count(*) FROM events e WHERE e.conversation_id = c.id)');
      expect(gaps.rows).toEqual([]);
    } finally {
      await check.end();
    }
  }, 300_000);
});
