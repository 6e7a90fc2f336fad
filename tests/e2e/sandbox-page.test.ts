import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemHandler } from '../../bridge-server/src/api/problem.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { createSandboxRouter, type ClientMessage, type SandboxClient } from '../../bridge-server/src/sandbox/routes.js';
import { axeViolations } from '../support/a11y.js';
import { launchChromium } from '../support/browser.js';

/**
 * The sandbox page in headless Chromium, against the real catcher and router. The whole bridge is
 * stood in for by a SandboxClient that relays each message straight to the catcher as a threaded
 * mail shaped like the bridge's, so this suite depends on nothing but the sandbox folder.
 */

const firmNumber = '+44 20 7946 0000';
const mailbox = 'whatsapp@firm.example';
const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/** Relays like the bridge would: one subject and chat id per chat, In-Reply-To the previous mail. */
function standInBridge(catcherUrl: string): SandboxClient & { calls: number; stored: Array<ClientMessage & { phone: string }>; close(): void } {
  const transport = nodemailer.createTransport({ url: catcherUrl });
  const chats = new Map<string, string[]>();
  let sequence = 0;
  const client = {
    calls: 0,
    stored: [] as Array<ClientMessage & { phone: string }>,
    close: () => transport.close(),
    async sendAsClient(input: Parameters<SandboxClient['sendAsClient']>[0]) {
      client.calls += 1;
      sequence += 1;
      const waMessageId = `wamid.TEST${String(sequence).padStart(4, '0')}`;
      const chatId = `cloud:442079460000:${input.phone.slice(1)}`;
      const previous = chats.get(chatId) ?? [];
      const messageId = `<m.test${sequence}@wa.sandbox.test>`;
      const subject = `WhatsApp · ${input.name} (${input.phone}) [WA test01]`;
      const text = input.text ?? `(sent a file: ${input.file?.fileName ?? ''})`;
      await transport.sendMail({
        envelope: { from: 'bridge@wa.sandbox.test', to: [mailbox] },
        from: { name: `${input.name} via WhatsApp`, address: 'bridge@wa.sandbox.test' },
        to: mailbox,
        subject,
        messageId,
        date: new Date(Date.UTC(2026, 2, 3, 10, 0, sequence)),
        ...(previous.length > 0 ? { inReplyTo: previous[previous.length - 1], references: previous } : {}),
        headers: {
          'Thread-Topic': subject,
          'Thread-Index': `AdxTESTAAAAAAAAAAAAAAAAAAAA${sequence}`,
          'X-WhatsApp-Chat-Id': chatId,
          'X-WhatsApp-Message-Id': waMessageId,
          'X-WhatsApp-Direction': 'inbound',
          'X-WhatsApp-From': input.phone,
          'X-Archive-Hash': `sha256:${'ab'.repeat(32)}`,
          'Auto-Submitted': 'auto-generated',
        },
        text,
        html: `<div style="font-family:sans-serif"><p><b>${escapeHtml(input.name)}</b> wrote on WhatsApp:</p><p>${escapeHtml(text)}</p><script>document.title='ran'</script></div>`,
        attachments: input.file ? [{ filename: input.file.fileName, contentType: input.file.mimeType, content: input.file.bytes }] : [],
      });
      chats.set(chatId, [...previous, messageId]);
      client.stored.push({ phone: input.phone, waMessageId, ...(input.text ? { text: input.text } : {}), ...(input.file ? { fileName: input.file.fileName } : {}), sentAt: Date.now() });
      return { waMessageId };
    },
  };
  return client;
}

describe('sandbox page', () => {
  let catcher: MailCatcher;
  let bridge: ReturnType<typeof standInBridge>;
  let server: Server;
  let baseUrl: string;
  let browser: Browser;
  let page: Page;
  const pageProblems: string[] = [];
  const outsideRequests: string[] = [];
  const blockedScripts: string[] = [];

  beforeAll(async () => {
    catcher = await startMailCatcher();
    bridge = standInBridge(catcher.url);
    const app = express();
    app.use('/sandbox', createSandboxRouter({
        catcher,
        client: bridge,
        // The solicitor's side is covered by sandbox-two-way.test.ts against the real bridge.
        solicitor: { reply: async () => ({ response: '250 2.0.0 reply accepted' }) },
        // Pictures come from the bridge's archive, which this stand-in does not keep (sandbox-restart.test.ts shows them).
        phone: { messages: () => [], sentFrom: (from) => bridge.stored.filter((stored) => stored.phone === from).map(({ phone: _phone, ...message }) => message), picture: async () => undefined },
        firmNumber,
        mailbox,
      }),);
    app.use(problemHandler({ error: () => undefined }));
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    // Anything but this loopback server is a failure: the page must be self-contained.
    await context.route(
      (url) => !url.href.startsWith(`${baseUrl}/`),
      (route) => {
        outsideRequests.push(route.request().url());
        return route.abort();
      },
    );
    page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      // Expected: the test mail's <script> is stopped by the frame's sandbox, and the invalid
      // phone number gets its 400.
      if (text.startsWith("Blocked script execution in 'about:srcdoc'")) blockedScripts.push(text);
      else if (!text.includes('status of 400')) pageProblems.push(`console: ${text}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    bridge?.close();
    await catcher?.stop();
  });

  /**
   * The whole page in one image. The mail bodies' sandboxed frames paint in their own process, so
   * the viewport is grown to the page first (a full-page capture can catch them unpainted).
   */
  const screenshot = async (path: string) => {
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 1360, height });
    await page.locator('article.mail iframe').last().scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path });
  };
  const threads = () => page.locator('section.thread');
  const mailArticles = () => page.locator('article.mail');

  it('shows the sandbox banner and the connection instructions', async () => {
    const response = await page.goto(`${baseUrl}/sandbox`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    const banner = page.getByRole('note');
    expect(await banner.innerText()).toContain(
      'SANDBOX: no real WhatsApp number or mailbox is connected. Messages you type here go through a local WhatsApp Cloud API simulator, and the emails go to a local mail catcher, not to anyone.',
    );
    // The way to the solicitor's side, relative to the page so it holds behind a path prefix too.
    for (const [name, pathname] of [['Outlook task pane', '/addin/'], ['Teams tab', '/teams/']] as const) {
      const href = await banner.getByRole('link', { name }).getAttribute('href');
      expect(new URL(href!, page.url()).pathname).toBe(pathname);
    }
    const connect = await page.getByRole('region', { name: 'How to connect a real number and mailbox' }).innerText();
    for (const name of ['WA_BRIDGE_CLOUD_API_APP_SECRET', 'WA_BRIDGE_CLOUD_API_VERIFY_TOKEN', 'WA_BRIDGE_CLOUD_API_ACCESS_TOKEN', 'WA_BRIDGE_SMTP_URL', 'WA_BRIDGE_MAILBOX', 'WA_BRIDGE_MAIL_DOMAIN', 'README.md']) {
      expect(connect).toContain(name);
    }
    expect(await page.getByLabel("Client's name").inputValue()).toBe('Jane Smith');
    expect(await page.getByLabel("Client's phone number").inputValue()).toBe('+44 7700 900123');
    await page.locator('#live[data-state="live"]').waitFor();
  });

  it('sends a message with a file and shows the relayed mail, its attachment and its raw MIME', async () => {
    const fileBytes = Buffer.from('%PDF-1.4\n% a small test statement\n', 'latin1');
    await page.getByLabel('Message', { exact: true }).fill('Hello, here is my bank statement <b>for March</b>.');
    await page.getByLabel(/Attach a file/).setInputFiles({ name: 'statement.pdf', mimeType: 'application/pdf', buffer: fileBytes });
    await page.getByRole('button', { name: 'Send' }).click();

    const mail = mailArticles().filter({ hasText: 'Hello, here is my bank statement <b>for March</b>.' });
    await mail.waitFor();
    expect(await threads().count()).toBe(1);
    expect(await mail.locator('.from').innerText()).toContain('Jane Smith via WhatsApp');
    expect(await mail.locator('.subject').innerText()).toContain('WhatsApp · Jane Smith (+447700900123) [WA test01]');
    expect(await page.locator('#sent').innerText()).toContain('wamid.TEST0001');

    // The HTML body renders in a frame that may not run scripts; the mail's <script> did nothing.
    const frame = mail.locator('iframe');
    expect(await frame.getAttribute('sandbox')).toBe('');
    const frameBody = mail.frameLocator('iframe').locator('body');
    await frameBody.getByText('Jane Smith wrote on WhatsApp:').waitFor();
    expect(await frameBody.innerText()).toContain('for March');
    expect(await mail.frameLocator('iframe').locator('b', { hasText: 'for March' }).count()).toBe(0);

    await mail.locator('summary', { hasText: 'Threading and archive headers' }).click();
    const headers = await mail.locator('dl.headers').innerText();
    expect(headers).toContain('<m.test1@wa.sandbox.test>');
    expect(headers.toLowerCase()).toContain('x-whatsapp-chat-id');
    expect(headers).toContain('WhatsApp · Jane Smith (+447700900123) [WA test01]');
    expect(headers).toContain('cloud:442079460000:447700900123');
    expect(headers).toContain('AdxTESTAAAAAAAAAAAAAAAAAAAA1');

    const link = mail.locator('ul.attachments a');
    expect(await link.innerText()).toBe('statement.pdf');
    const download = await fetch(new URL((await link.getAttribute('href')) ?? '', baseUrl));
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="?statement\.pdf"?$/);
    expect(Buffer.from(await download.arrayBuffer()).equals(fileBytes)).toBe(true);

    const rawHref = await mail.getByRole('link', { name: 'View raw MIME' }).getAttribute('href');
    const raw = await fetch(new URL(rawHref ?? '', baseUrl));
    expect(raw.status).toBe(200);
    expect(Buffer.from(await raw.arrayBuffer()).equals(catcher.mails()[0]?.raw ?? Buffer.alloc(0))).toBe(true);
  });

  it('puts a second message of the same chat in the same thread, after the first', async () => {
    await page.getByLabel('Message', { exact: true }).fill('And one more question about the hearing date.');
    await page.getByLabel('Message', { exact: true }).press('Control+Enter');

    await mailArticles().filter({ hasText: 'And one more question about the hearing date.' }).waitFor();
    expect(await threads().count()).toBe(1);
    const inThread = threads().first().locator('article.mail');
    expect(await inThread.count()).toBe(2);
    expect(await inThread.nth(1).textContent()).toContain('hearing date');
    expect(await threads().first().locator('.thread-meta').innerText()).toContain('2 mails');
  });

  it("still shows the client's sent messages, newest first, after the page is loaded again", async () => {
    await page.reload();
    await page.locator('#live[data-state="live"]').waitFor();
    const bubbles = page.locator('#sent li.bubble');
    await expect.poll(() => bubbles.count()).toBe(2);
    expect(await page.locator('#sent-empty').isHidden()).toBe(true);
    expect(await bubbles.nth(0).innerText()).toContain('And one more question about the hearing date.');
    expect(await bubbles.nth(0).innerText()).toContain('Stored by the bridge · wamid.TEST0002');
    expect(await bubbles.nth(1).locator('.bubble-file').innerText()).toBe('statement.pdf');
    expect(await bubbles.nth(1).innerText()).toContain('wamid.TEST0001');
    expect(await mailArticles().count()).toBe(2);

    // Another number's phone has sent nothing.
    await page.getByLabel("Client's phone number").fill('+44 7700 900999');
    await expect.poll(() => bubbles.count()).toBe(0);
    expect(await page.locator('#sent-empty').isVisible()).toBe(true);
    await page.getByLabel("Client's phone number").fill('+44 7700 900123');
    await expect.poll(() => bubbles.count()).toBe(2);
  });

  it("shows the server's error for an invalid phone number and sends nothing", async () => {
    const callsBefore = bridge.calls;
    await page.getByLabel("Client's phone number").fill('call me maybe');
    await page.getByLabel('Message', { exact: true }).fill('This should not be sent.');
    await page.getByRole('button', { name: 'Send' }).click();

    const alert = page.getByRole('alert');
    await alert.waitFor();
    // The summary names the field by its label, and the focus goes to it.
    expect(await alert.innerText()).toContain("Client's phone number: Enter the number in international form with the country code, 8 to 15 digits");
    expect(await alert.innerText()).not.toMatch(/^phone:/m);
    expect(await page.getByLabel("Client's phone number").getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('phone');
    expect(bridge.calls).toBe(callsBefore);
    expect(await mailArticles().count()).toBe(2);

    await screenshot('/tmp/sandbox.png');
  });

  it('says an empty message is empty without asking the bridge, and sends the next one', async () => {
    await page.getByLabel("Client's phone number").fill('+44 7700 900123');
    await page.getByLabel('Message', { exact: true }).fill('   ');
    const posts: string[] = [];
    const onRequest = (request: { method(): string; url(): string }) => {
      if (request.method() === 'POST') posts.push(request.url());
    };
    page.on('request', onRequest);
    try {
      // Enter in the name field submits the form, as a newcomer may find out.
      await page.getByLabel("Client's name").press('Enter');
      const alert = page.getByRole('alert');
      await expect.poll(() => alert.innerText()).toContain('Message: Type a message or attach a file.');
      expect(await page.getByLabel('Message', { exact: true }).getAttribute('aria-invalid')).toBe('true');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('text');
      expect(await page.locator('#send-status').innerText()).toBe('Not sent.');
      expect(posts).toEqual([]);

      await page.getByLabel('Message', { exact: true }).fill('The hearing is on Friday, I think?');
      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.locator('#send-status').innerText()).toBe('Sent. The email follows in a moment.');
      expect(await page.getByRole('alert').isHidden()).toBe(true);
      expect(await page.getByLabel('Message', { exact: true }).getAttribute('aria-invalid')).toBeNull();
      expect(posts).toEqual([`${baseUrl}/sandbox/api/messages`]);
      await expect.poll(() => mailArticles().count()).toBe(3);
    } finally {
      page.off('request', onRequest);
    }
  });

  it("passes axe-core's WCAG 2.1 AA checks with mails shown, and with a field in error", async () => {
    expect(await mailArticles().count()).toBe(3);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Message', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByLabel('Message', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('ran without script errors, CSP violations or requests leaving the machine', () => {
    expect(pageProblems).toEqual([]);
    expect(outsideRequests).toEqual([]);
    expect(blockedScripts.length).toBeGreaterThan(0);
  });
});
