import path from 'node:path';
import QRCode from 'qrcode';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '@wa-bridge/shared/api/client';
import { FakeWebClient } from '../../bridge-server/src/channels/whatsapp-web/test-client.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { teamsHostPage } from '../support/teams-host.js';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.js';
import { artifactsDir, startBrowserFor } from '../support/ui-world.js';

/**
 * Linking the firm's phone from the Teams tab: with the whatsapp-web.js channel on (its client
 * replaced by the project's double, since no test can reach WhatsApp Web), an admin signed in by
 * Teams SSO sees the QR code the client produced, as a code a phone can scan.
 */

describe('Teams admin view: pairing whatsapp-web.js', () => {
  let issuer: TokenIssuer;
  let world: BridgeWorld;
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  let client: FakeWebClient | undefined;
  let adminToken: string;
  const qr = '2@pairing-ref-for-the-test,Q1w2E3r4T5y6U7i8O9p0,aBcDeFgHiJkL,MnOpQrStUvWx==';

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    // Nothing listens on port 9: no mail is relayed in this test.
    world = await startBridgeWorld({
      smtpUrl: 'smtp://127.0.0.1:9',
      mailbox: 'solicitor@firm.test',
      env: { ...issuer.env, WA_BRIDGE_WHATSAPP_WEB: 'on' },
      createWebClient: () => (client = new FakeWebClient()),
    });
    ({ browser, context, problems } = await startBrowserFor(world.bridge.url));
    adminToken = await issuer.sign({ upn: 'it.admin@firm.test', roles: ['Admin'] });
    const api = createApiClient({ baseUrl: world.bridge.url, getToken: async () => adminToken });
    await waitFor(() => client !== undefined && client.initializeCalls === 1, 10_000, () => 'the whatsapp-web client never started');
    client!.emit('qr', qr);
    await waitFor(async () => (await api.adminStatus()).channels.some((channel) => channel.qr === qr), 10_000, () => 'the QR never reached the status');
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await issuer?.stop();
  });

  it('shows the QR code to scan, exactly as the client produced it', async () => {
    const page = await context.newPage();
    await page.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath: '/teams/index.html?view=personal', ssoToken: adminToken }) }));
    await page.goto(`${world.bridge.url}/teams-host.html`);
    const tab = page.frameLocator('#tab');
    await tab.getByRole('tab', { name: 'Admin' }).click({ timeout: 20_000 });
    const code = tab.getByRole('img', { name: "QR code to link the firm's phone" });
    await code.waitFor({ timeout: 10_000 });
    expect(await tab.getByText('WhatsApp Web (linked phone)').count()).toBe(1);
    const expected = await QRCode.toString(qr, { type: 'svg', margin: 1 });
    const paths = (svg: string) => svg.match(/<path[^>]*\bd="[^"]+"/g);
    expect(paths(await code.innerHTML())).toEqual(paths(expected));
    await page.screenshot({ path: path.join(artifactsDir, 'teams-admin-pairing.png') });
    // Outside the sandbox the tab first asks for the demo sign-in, which answers 404.
    expect(problems.filter((problem) => problem !== 'console: Failed to load resource: the server responded with a status of 404 (Not Found)')).toEqual([]);
  });
});
