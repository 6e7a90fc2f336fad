import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../bridge-server/src/channels/simulator/server.js';
import { startMailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { liveBridgeEnv, postSignedWebhook, testSecrets } from '../support/bridge.js';
import { startBridgeProcess } from '../support/bridge-process.js';
import { runWaBridge } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { openRawStore } from '../support/test-database.js';

/**
 * `wa-bridge serve` whose start fails half-way: by then it has opened its database, threads,
 * schedules and the sandbox's servers. It must close them and exit with the reason, not stay up.
 */
describe('wa-bridge serve, when its port is taken', () => {
  let dataDir: string;
  let squatter: Server;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-serve-'));
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    await new Promise((resolve) => squatter.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('says which setting to change and exits 2, having closed everything it had started', async () => {
    const { port } = squatter.address() as AddressInfo;
    // Killed if it does not end by itself within a minute (it ends in about 2 s here).
    const result = await runWaBridge(dataDir, ['serve'], { PORT: String(port), WA_BRIDGE_HOST: '127.0.0.1' }, 60_000);
    expect(result.killedAfterMs).toBeUndefined();
    expect(result.stderr).toBe(`wa-bridge: PORT: 127.0.0.1:${port} is already in use (another wa-bridge, or another program); stop it or set PORT to a free port\n`);
    expect(result.code).toBe(2);
  }, 90_000);

  it("names the reply intake's settings when its SMTP port is the one taken", async () => {
    const { port } = squatter.address() as AddressInfo;
    const live = {
      PORT: '0',
      WA_BRIDGE_HOST: '127.0.0.1',
      WA_BRIDGE_SMTP_URL: 'smtp://127.0.0.1:9',
      WA_BRIDGE_MAILBOX: 'whatsapp@firm.example',
      WA_BRIDGE_MAIL_DOMAIN: 'wa.firm.example',
      WA_BRIDGE_CLOUD_API_APP_SECRET: 'app-secret-123',
      WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: 'verify-token-123',
      WA_BRIDGE_CLOUD_API_ACCESS_TOKEN: 'access-token-123',
      WA_BRIDGE_REPLY_SMTP_HOST: '127.0.0.1',
      WA_BRIDGE_REPLY_SMTP_PORT: String(port),
      WA_BRIDGE_ALLOWED_SENDERS: '@firm.example',
    };
    const result = await runWaBridge(dataDir, ['serve'], live, 60_000);
    expect(result.killedAfterMs).toBeUndefined();
    expect(result.stderr).toBe(`wa-bridge: WA_BRIDGE_REPLY_SMTP_PORT: 127.0.0.1:${port} is already in use (another wa-bridge, or another program); stop it or set WA_BRIDGE_REPLY_SMTP_PORT to a free port\n`);
    expect(result.code).toBe(2);
  }, 90_000);
});

/**
 * `wa-bridge serve` told to stop (SIGTERM, as systemd and container runtimes do) while mail is
 * being relayed: it finishes the mails in hand, records them, closes everything and exits 0, and
 * what it had not begun waits in the outbox for the next start.
 */
describe('wa-bridge serve, stopped while relaying', () => {
  it('finishes the mails in hand, leaves the rest queued, closes and exits 0; the next start sends the rest', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wab-stop-'));
    const catcher = await startMailCatcher({ keep: 10_000 });
    const simulator = await startSimulator({ appSecret: testSecrets.appSecret, accessToken: testSecrets.accessToken });
    const env = { ...liveBridgeEnv({ port: await freePort(), dataDir, smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', cloudApiBaseUrl: simulator.url }), WA_BRIDGE_LOG_LEVEL: 'info', WA_BRIDGE_RETENTION_SCHEDULE: 'off' };
    try {
      const bridge = await startBridgeProcess(env);
      const envelopes = Array.from({ length: 300 }, (_, i) => simulator.inboundMessage({ from: `4477009006${String(i % 10).padStart(2, '0')}`, name: `Client ${i % 10}`, type: 'text', body: `message ${i}` }));
      // Sixteen senders at once, so that the relay has a backlog when the last one is answered.
      let next = 0;
      const answers = await Promise.all(Array.from({ length: 16 }, async () => {
        let ok = 0;
        while (next < envelopes.length) if (await postSignedWebhook(bridge.url, envelopes[next++]!)) ok += 1;
        return ok;
      }));
      expect(answers.reduce((a, b) => a + b, 0)).toBe(envelopes.length);
      // Stopped while its backlog is being relayed (300 messages and 10 cover mails).
      const code = await bridge.kill('SIGTERM');
      expect(code, bridge.output()).toBe(0);
      expect(bridge.output()).toContain('wa-bridge stopped');

      const raw = await openRawStore(dataDir);
      try {
        // Nothing left half-done: no job still claimed, no mail sent and not recorded as sent.
        expect(await raw.get<{ n: number }>("SELECT count(*) AS n FROM outbox_jobs WHERE state <> 'pending'")).toEqual({ n: 0 });
        expect(await raw.get<{ n: number }>("SELECT count(*) AS n FROM mail_relays WHERE state <> 'sent'")).toEqual({ n: 0 });
        const sent = (await raw.get<{ n: number }>('SELECT count(*) AS n FROM mail_relays'))!.n;
        const queued = (await raw.get<{ n: number }>("SELECT count(*) AS n FROM outbox_jobs WHERE kind = 'mail.relay'"))!.n;
        expect(catcher.mails()).toHaveLength(sent);
        expect(sent + queued).toBe(envelopes.length + 10);
        console.info(`serve stopped: ${sent} mails sent, ${queued} left queued`);
      } finally {
        await raw.close();
      }

      const again = await startBridgeProcess(env);
      try {
        const deadline = Date.now() + 60_000;
        while (catcher.mails().length < envelopes.length + 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(new Set(catcher.mails().map((mail) => mail.raw.toString('latin1').match(/^Message-ID: (.*)$/im)?.[1])).size).toBe(envelopes.length + 10);
        expect(catcher.mails()).toHaveLength(envelopes.length + 10);
      } finally {
        expect(await again.kill('SIGTERM')).toBe(0);
      }
    } finally {
      await simulator.stop();
      await catcher.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
