import path from 'node:path';
import QRCode from 'qrcode';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '@wa-bridge/shared/api/client';
import { FakeWebClient } from '../../bridge-server/src/channels/whatsapp-web/test-client.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { freePort } from '../support/ports.js';
import { axeViolations, frameOf } from '../support/a11y.js';
import { teamsHostPage } from '../support/teams-host.js';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.js';
import { artifactsDir, startBrowserFor } from '../support/ui-world.js';

/**
 * Linking the firm's phone from the Teams tab: with the whatsapp-web.js channel on (its client
 * replaced by the project's double, since no test can reach WhatsApp Web), an admin signed in by
 * Teams SSO sees the QR code the client produced, as a code a phone can scan, then the pairing
 * code when the client offers one instead. The same view reports the Cloud API's webhook health and
 * the configured reply senders.
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
      env: {
        ...issuer.env,
        WA_BRIDGE_WHATSAPP_WEB: 'on',
        // An email reply route, and who may use it.
        WA_BRIDGE_REPLY_SMTP_PORT: String(await freePort()),
        WA_BRIDGE_REPLY_SMTP_HOST: '127.0.0.1',
        WA_BRIDGE_ALLOWED_SENDERS: '@firm.test,head.clerk@chambers.test',
      },
      createWebClient: () => (client = new FakeWebClient()),
    });
    ({ browser, context, problems } = await startBrowserFor(world.bridge.url));
    adminToken = await issuer.sign({ upn: 'it.admin@firm.test', roles: ['Admin'] });
    const api = createApiClient({ baseUrl: world.bridge.url, getToken: async () => adminToken });
    await waitFor(() => client !== undefined && client.initializeCalls === 1, 10_000, () => 'the whatsapp-web client never started');
    client!.emit('qr', qr);
    await waitFor(async () => (await api.adminStatus()).channels.some((channel) => channel.qr === qr), 10_000, () => 'the QR never reached the status');

    // Two webhook deliveries: one signed as Meta signs, one with a signature that does not match.
    const envelope = world.simulator.inboundMessage({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'Hello' });
    expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
    expect((await world.simulator.postWebhook(envelope, { signature: 'bad' })).status).toBe(401);
  });

  async function openAdmin() {
    const page = await context.newPage();
    await page.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath: '/teams/index.html?view=personal', ssoToken: adminToken }) }));
    await page.goto(`${world.bridge.url}/teams-host.html`);
    const tab = page.frameLocator('#tab');
    await tab.getByRole('tab', { name: 'Admin' }).click({ timeout: 20_000 });
    return { page, tab };
  }

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await issuer?.stop();
  });

  it('shows the QR code to scan, exactly as the client produced it', async () => {
    const { page, tab } = await openAdmin();
    const code = tab.getByRole('img', { name: "QR code to link the firm's phone" });
    await code.waitFor({ timeout: 10_000 });
    expect(await tab.getByText('WhatsApp Web (linked phone)').count()).toBe(1);
    const expected = await QRCode.toString(qr, { type: 'svg', margin: 1 });
    const paths = (svg: string) => svg.match(/<path[^>]*\bd="[^"]+"/g);
    expect(paths(await code.innerHTML())).toEqual(paths(expected));
    expect(await axeViolations(await frameOf(page.locator('#tab')))).toEqual([]);
    await page.screenshot({ path: path.join(artifactsDir, 'teams-admin-pairing.png') });
    await page.close();
  });

  it("shows the Cloud API's webhook counts and the configured reply senders", async () => {
    const { page, tab } = await openAdmin();
    const cloudApi = tab.locator('.channel[data-kind="cloud-api"]');
    await cloudApi.waitFor({ timeout: 10_000 });
    expect(await cloudApi.locator('.webhook-health').innerText()).toBe('Webhooks since start: accepted 1, rejected_signature 1');
    expect(await cloudApi.innerText()).toContain('1 webhook deliveries refused since start');
    expect(await tab.getByRole('list', { name: 'Who may reply by email' }).locator('li.allowed-sender').allInnerTexts()).toEqual(['anyone at firm.test', 'head.clerk@chambers.test']);
    await page.close();
  });

  it('shows the pairing code when the client links by phone number instead', async () => {
    // whatsapp-web.js emits `code` with the eight characters to type on the phone.
    client!.emit('code', 'K7PX4Q2M');
    const { page, tab } = await openAdmin();
    const web = tab.locator('.channel[data-kind="whatsapp-web"]');
    await web.locator('.pairing-code').waitFor({ timeout: 10_000 });
    expect(await web.locator('.pairing-code').innerText()).toBe('K7PX4Q2M');
    expect(await web.innerText()).toContain('Or link with phone number, code: K7PX4Q2M');
    expect(await tab.getByRole('img', { name: "QR code to link the firm's phone" }).count()).toBe(0);
    await page.screenshot({ path: path.join(artifactsDir, 'teams-admin-pairing-code.png') });
    await page.close();
  });

  it('ran without script errors or requests leaving the machine', () => {
    // Outside the sandbox the tab first asks for the demo sign-in, which answers 404.
    expect(problems.filter((problem) => problem !== 'console: Failed to load resource: the server responded with a status of 404 (Not Found)')).toEqual([]);
  });
});
