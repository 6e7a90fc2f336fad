import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type Bridge } from '../../bridge-server/src/app.js';
import { loadConfig } from '../../bridge-server/src/config/load.js';
import { createLogger } from '../../bridge-server/src/ops/logger.js';
import { launchChromium, openSandboxPage } from '../support/browser.js';

/**
 * Both directions of the sandbox in headless Chromium, against the real bridge in sandbox mode:
 * a client's WhatsApp message becomes a mail, the solicitor answers it from the mailbox pane, and
 * the bridge's own reply intake strips the quote, sends the reply through the simulator and
 * mirrors it into the same thread, while the client's phone shows it with its delivery ticks.
 */

describe('sandbox: client and solicitor talking', () => {
  let dataDir: string;
  let bridge: Bridge;
  let browser: Browser;
  let page: Page;
  const pageProblems: string[] = [];
  const clientText = 'Hello, has the other side answered about the hearing date?';
  const replyText = 'Yes, they agreed to 14 May. I will send the details tomorrow.';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'wa-bridge-two-way-'));
    bridge = await startBridge(loadConfig({ PORT: '0', WA_BRIDGE_HOST: '127.0.0.1', WA_BRIDGE_DATA_DIR: dataDir }, undefined), { logger: createLogger('silent') });
    browser = await launchChromium();
    page = await openSandboxPage(browser, (url) => url.href.startsWith(`${bridge.url}/`), pageProblems);
  });

  afterAll(async () => {
    await browser?.close();
    await bridge?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs in sandbox mode with the reply intake connected', () => {
    expect(bridge.config.sandbox).toBe(true);
    expect(bridge.sandbox).toBeDefined();
    expect(bridge.replyIntakePort).toBeGreaterThan(0);
  });

  it("relays the solicitor's reply to the client's phone without the quote, and mirrors it into the thread", async () => {
    await page.goto(`${bridge.url}/sandbox`);
    await page.locator('#live[data-state="live"]').waitFor();
    await page.getByLabel('Message', { exact: true }).fill(clientText);
    await page.getByRole('button', { name: 'Send' }).click();

    const thread = page.locator('section.thread');
    await thread.locator('article.mail', { hasText: clientText }).waitFor({ timeout: 20_000 });
    expect(await thread.count()).toBe(1);

    await thread.getByLabel('Solicitor’s reply').fill(replyText);
    await thread.getByRole('button', { name: 'Reply as Tom Baker (solicitor)' }).click();
    await expect.poll(() => thread.getByRole('status').innerText(), { timeout: 15_000 }).toMatch(/^The reply intake answered: 250 /);

    // (a) The phone shows the reply as the client sees it: no quoted history, and finally read.
    const bubble = page.locator('#inbox li.bubble.incoming');
    await bubble.first().waitFor({ timeout: 20_000 });
    expect(await bubble.count()).toBe(1);
    const bubbleText = await bubble.locator('.bubble-text').innerText();
    expect(bubbleText).toBe(replyText);
    expect(bubbleText).not.toContain('wrote:');
    await page.locator('#inbox li.bubble.incoming[data-state="read"]').waitFor({ timeout: 15_000 });
    expect(await bubble.locator('.ticks').innerText()).toBe('Read');

    const sent = bridge.sandbox!.simulator.sent;
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: '447700900123', type: 'text' });
    expect(bridge.sandbox!.simulator.deliveryState(sent[0]!.waMessageId)).toBe('read');

    // (b) The bridge mirrors the reply into the same thread as an outbound mail.
    const mirrored = thread.locator('article.mail', { hasText: 'Tom Baker via WhatsApp' });
    await mirrored.waitFor({ timeout: 20_000 });
    expect(await page.locator('section.thread').count()).toBe(1);
    expect(await mirrored.locator('.badge').innerText()).toMatch(/outbound/i);
    expect(await thread.locator('article.mail').count()).toBeGreaterThanOrEqual(2);

    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 1360, height });
    await page.waitForTimeout(400);
    await page.screenshot({ path: '/tmp/sandbox-two-way.png' });
  });

  it('shows both sides of the chat on the phone after the page is loaded again', async () => {
    await page.reload();
    const sentBubble = page.locator('#sent li.bubble');
    await sentBubble.first().waitFor({ timeout: 10_000 });
    expect(await sentBubble.count()).toBe(1);
    expect(await sentBubble.locator('.bubble-text').innerText()).toBe(clientText);
    expect(await sentBubble.locator('.bubble-meta').innerText()).toMatch(/^Stored by the bridge · wamid\./);
    expect(await page.locator('#inbox li.bubble.incoming .bubble-text').innerText()).toBe(replyText);
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(pageProblems).toEqual([]);
  });
});
