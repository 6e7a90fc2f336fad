import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookEnvelope } from '../../bridge-server/src/channels/simulator/builders.js';
import { startSimulator, type Simulator } from '../../bridge-server/src/channels/simulator/server.js';
import { liveBridgeEnv, postSignedWebhook, testSecrets, waitForMailSettled } from '../support/bridge.js';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { fetchAll, waitForCount, type StoredMail } from '../support/imap.js';
import { asRelayed, rawHeader, sha256Hex } from '../support/mail-assert.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { freePort } from '../support/ports.js';
import { activeJobsIn, openRawStore, testEngine } from '../support/test-database.js';

const waIdOf = (envelope: WebhookEnvelope): string => (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;

/**
 * Two bridge processes on one PostgreSQL database, one data dir (the shared media path) and one
 * firm MTA: 5,000 signed webhooks spread across both. First both stay up and every message is
 * relayed exactly once; then one is killed with SIGKILL in the middle of the second half, and the
 * survivor finishes the work the dead one had claimed once its leases run out.
 */
describe('two bridge instances on one PostgreSQL database', () => {
  let stack: MailStack;
  let simulator: Simulator;
  let dataDir: string;
  const instances: BridgeProcess[] = [];
  const urls: string[] = [];
  const clients = Array.from({ length: 20 }, (_, i) => `4477009008${String(i).padStart(2, '0')}`);
  const half = 2500;
  const envelopes: WebhookEnvelope[] = [];

  const post = postSignedWebhook;

  /** Sends envelopes [from, to) from 16 concurrent senders alternating between the instances that are up. */
  const sendRange = async (from: number, to: number, up: () => string[], acknowledged: Set<number>) => {
    let next = from;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < to) {
          const i = next++;
          const targets = up();
          if (await post(targets[i % targets.length]!, envelopes[i]!)) acknowledged.add(i);
        }
      }),
    );
  };

  const byMessageId = (mails: StoredMail[]) => {
    const found = new Map<string, string[]>();
    for (const mail of mails) {
      const id = rawHeader(mail.source, 'message-id')!;
      found.set(id, [...(found.get(id) ?? []), sha256Hex(asRelayed(mail.source))]);
    }
    return found;
  };

  /** No relay job left to run on either instance (a dead one's claims included). */
  const relaysDone = async () => (await activeJobsIn(dataDir, 'mail.relay')) === 0;

  beforeAll(async () => {
    expect(testEngine).toBe('postgres');
    stack = await startMailStack();
    simulator = await startSimulator({ appSecret: testSecrets.appSecret, accessToken: testSecrets.accessToken });
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-two-'));
    for (let i = 0; i < 2 * half; i += 1) {
      envelopes.push(simulator.inboundMessage({ from: clients[i % clients.length]!, name: `Client ${i % clients.length}`, type: 'text', body: `message ${i} of the load` }));
    }
    for (let n = 0; n < 2; n += 1) {
      const port = await freePort();
      const env = {
        ...liveBridgeEnv({ port, dataDir, smtpUrl: `smtp://127.0.0.1:${stack.smtpPort}`, mailbox: stack.mailbox, cloudApiBaseUrl: simulator.url }),
        WA_BRIDGE_RETENTION_SCHEDULE: 'off',
        // A short lease, so the dead instance's claims come back within the test.
        WA_BRIDGE_JOB_LEASE_SECONDS: '6',
      };
      // One after the other: the second finds the schema the first made.
      instances.push(await startBridgeProcess(env));
      urls.push(`http://127.0.0.1:${port}`);
    }
  });

  afterAll(async () => {
    for (const instance of instances) await instance.kill('SIGTERM').catch(() => undefined);
    await simulator?.stop();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('relays each of 2,500 messages exactly once while both instances share the work', async () => {
    const acknowledged = new Set<number>();
    await sendRange(0, half, () => urls, acknowledged);
    expect(acknowledged.size).toBe(half);
    // One cover mail per chat, then one mail per message.
    const mails = await waitForCount(stack, 'solicitor', half + clients.length, 180_000);
    await waitForMailSettled(stack, relaysDone);
    const all = await fetchAll(stack, 'solicitor');
    expect(all.length).toBe(mails.length);
    const found = byMessageId(all);
    expect(found.size).toBe(half + clients.length);
    for (const [id, copies] of found) expect(copies, `${id} arrived ${copies.length} times`).toHaveLength(1);
    const delivered = new Set(all.map((mail) => rawHeader(mail.source, 'x-whatsapp-message-id')));
    for (const envelope of envelopes.slice(0, half)) expect(delivered.has(waIdOf(envelope))).toBe(true);
  }, 300_000);

  it('delivers all 2,500 more after one instance is killed with SIGKILL midway, each Message-ID with one content', async () => {
    const before = (await fetchAll(stack, 'solicitor')).length;
    const acknowledged = new Set<number>();
    let killed = false;
    const up = () => (killed ? [urls[1]!] : urls);
    const sending = sendRange(half, 2 * half, up, acknowledged);
    await waitForCount(stack, 'solicitor', before + 400, 120_000);
    await instances[0]!.kill('SIGKILL');
    killed = true;
    await sending;
    // Webhooks the dead instance never answered are redelivered, as Meta does, to the survivor.
    for (let i = half; i < 2 * half; i += 1) if (!acknowledged.has(i) && (await post(urls[1]!, envelopes[i]!))) acknowledged.add(i);
    expect(acknowledged.size).toBe(half);

    const raw = await openRawStore(dataDir);
    try {
      // The survivor takes over what the dead one had claimed once its lease runs out.
      const deadline = Date.now() + 240_000;
      for (;;) {
        const left = (await raw.get<{ n: number }>("SELECT count(*) AS n FROM outbox_jobs WHERE kind = 'mail.relay'"))!.n;
        if (left === 0) break;
        if (Date.now() > deadline) throw new Error(`${left} relay job(s) still queued`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const relays = (await raw.get<{ sent: number; other: number }>("SELECT sum(CASE WHEN state = 'sent' THEN 1 ELSE 0 END) AS sent, sum(CASE WHEN state <> 'sent' THEN 1 ELSE 0 END) AS other FROM mail_relays"))!;
      expect(relays).toEqual({ sent: 2 * half + clients.length, other: 0 });
    } finally {
      await raw.close();
    }
    await waitForCount(stack, 'solicitor', 2 * half + clients.length, 60_000);
    await waitForMailSettled(stack, relaysDone);
    const all = await fetchAll(stack, 'solicitor');
    const found = byMessageId(all);
    expect(found.size).toBe(2 * half + clients.length);
    for (const [id, copies] of found) expect(new Set(copies).size, `${id} was sent with different contents`).toBe(1);
    const delivered = new Set(all.map((mail) => rawHeader(mail.source, 'x-whatsapp-message-id')));
    for (const envelope of envelopes) expect(delivered.has(waIdOf(envelope))).toBe(true);
    // A mail the dead instance had handed to the MTA but not yet recorded as sent goes again
    // with the same Message-ID and bytes: at most the runs it had in flight.
    const repeated = [...found.values()].filter((copies) => copies.length > 1).length;
    console.info(`two-instances: ${all.length} mails for ${found.size} Message-IDs after SIGKILL; ${repeated} delivered twice`);
    expect(all.length - found.size).toBe(repeated);
  }, 400_000);
});
