import { networkInterfaces } from 'node:os';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWebClient } from '../../bridge-server/src/channels/whatsapp-web/test-client.js';
import { axeViolations } from '../support/a11y.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { launchChromium } from '../support/browser.js';

/**
 * The page an IT admin opens on the bridge's own machine to link the firm's phone to the
 * whatsapp-web.js channel (its client is the project's double: no test can reach WhatsApp Web).
 * The page shows the QR code the client produced, or the pairing code when the client links by
 * phone number, and is refused to every other machine: whoever scans the code links their phone
 * to the firm mailbox.
 */

/** An IPv4 address of this machine that is not loopback: a request to it comes from that address. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;

const paths = (svg: string) => svg.match(/<path[^>]*\bd="[^"]+"/g);
const textOf = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>|<svg[\s\S]*?<\/svg>/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, ' ')
    .trim();

describe('the whatsapp-web.js linking page', () => {
  let world: BridgeWorld;
  let client: FakeWebClient | undefined;
  const qr = '2@admin-page-ref-for-the-test,Z9y8X7w6V5u4T3s2R1q0,pOnMlKjIhGfE,DcBaZyXwVuTs==';

  beforeAll(async () => {
    world = await startBridgeWorld({
      // Nothing listens on port 9: no mail is relayed in this test.
      smtpUrl: 'smtp://127.0.0.1:9',
      mailbox: 'solicitor@firm.test',
      // On every interface, so that another address of this machine can ask for the page too.
      env: { WA_BRIDGE_WHATSAPP_WEB: 'on', WA_BRIDGE_HOST: '0.0.0.0' },
      createWebClient: () => (client = new FakeWebClient()),
    });
    await waitFor(() => client !== undefined && client.initializeCalls === 1, 10_000, () => 'the whatsapp-web client never started');
  });
  afterAll(async () => {
    await world?.stop();
  });

  const page = async (base = world.bridge.url) => {
    const response = await fetch(`${base}/admin/whatsapp-web`);
    return { status: response.status, type: response.headers.get('content-type') ?? '', html: await response.text() };
  };

  it('shows the QR code to scan, exactly as the client produced it, with the warning about the unofficial client', async () => {
    client!.emit('qr', qr);
    await waitFor(async () => (await page()).html.includes('<svg'), 10_000, () => 'the QR code never reached the page');
    const { status, type, html } = await page();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/html/);
    const text = textOf(html);
    expect(text).toContain('Link the firm\u2019s WhatsApp number');
    expect(text).toContain('State: qr');
    expect(text).toContain('On the phone: Linked devices → Link a device, then scan:');
    expect(text).toContain('whatsapp-web.js is an unofficial client: WhatsApp may ban a number that uses it. The WhatsApp Business Cloud API is the supported channel.');
    expect(text).not.toContain('Link with phone number');
    // The page's QR draws the same modules as the client's string encoded on its own (error
    // correction M, as WhatsApp Web's own code uses, with a two-module quiet zone).
    const svg = /<svg[\s\S]*?<\/svg>/.exec(html)![0];
    expect(paths(svg)).toEqual(paths(await QRCode.toString(qr, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })));
    // It refreshes itself, so a new QR code (they expire) shows without a reload.
    expect(html).toContain('<meta http-equiv="refresh" content="5">');

    // The JSON status of the same page names the state and never carries the QR string.
    const json = (await (await fetch(`${world.bridge.url}/admin/whatsapp-web/status`)).json()) as Record<string, unknown>;
    expect(json).toMatchObject({ state: 'qr' });
    expect(json).not.toHaveProperty('qr');
  });

  it("passes axe-core's WCAG 2.1 AA checks in a browser, with the QR code shown", async () => {
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(`${world.bridge.url}/admin/whatsapp-web`);
      await tab.getByRole('img').first().waitFor({ timeout: 10_000 });
      expect(await axeViolations(tab)).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('shows the pairing code, and no QR code, when the client links by phone number', async () => {
    // whatsapp-web.js emits `code` with the eight characters to type on the phone.
    client!.emit('code', 'K7PX4Q2M');
    await waitFor(async () => (await page()).html.includes('K7PX4Q2M'), 10_000, () => 'the pairing code never reached the page');
    const { status, html } = await page();
    expect(status).toBe(200);
    const text = textOf(html);
    expect(text).toContain('State: pairing-code');
    expect(text).toContain('On the phone: Linked devices → Link with phone number, then enter K7PX4Q2M');
    expect(text).not.toContain('then scan');
    expect(html).not.toContain('<svg');
    expect((await (await fetch(`${world.bridge.url}/admin/whatsapp-web/status`)).json()) as Record<string, unknown>).toMatchObject({ state: 'pairing-code', pairingCode: 'K7PX4Q2M' });
  });

  it.skipIf(!externalAddress)('is refused to any other machine: no code, only a 403 problem', async () => {
    client!.emit('qr', qr);
    await waitFor(async () => (await page()).html.includes('<svg'), 10_000, () => 'the QR code never reached the page');
    const port = new URL(world.bridge.url).port;
    const other = `http://${externalAddress}:${port}`;
    for (const path of ['/admin/whatsapp-web', '/admin/whatsapp-web/status']) {
      const response = await fetch(`${other}${path}`);
      const body = await response.text();
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(body)).toMatchObject({ status: 403, code: 'loopback_only' });
      expect(body).not.toContain('<svg');
      expect(body).not.toContain('admin-page-ref-for-the-test');
    }
    // The same bridge, asked from this machine, still shows the code.
    expect((await page()).status).toBe(200);
  });
});
