import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWaBridge } from '../support/cli.js';

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
