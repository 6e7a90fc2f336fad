import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBridge, type Bridge } from '../../bridge-server/src/app.js';
import { loadConfig } from '../../bridge-server/src/config/load.js';
import { createLogger } from '../../bridge-server/src/ops/logger.js';
import { waitFor } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { clientSays, startBrowserFor } from '../support/ui-world.js';

/**
 * A solicitor keeps the Teams tab open while the sandbox bridge is stopped and started again:
 * the tab says the bridge cannot be reached instead of "Failed to fetch", and once it is back it
 * signs in again by itself (the restarted sandbox no longer trusts the old demo token) and goes
 * on, stream and replies included, without a reload; what changed meanwhile (a legal hold placed
 * with the CLI) shows once it is back.
 */
describe('the Teams tab across a restart of the bridge', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wab-restart-'));
  let bridge: Bridge | undefined;
  let close: (() => Promise<void>) | undefined;

  const start = (port: string) =>
    startBridge(loadConfig({ PORT: port, WA_BRIDGE_HOST: '127.0.0.1', WA_BRIDGE_DATA_DIR: dataDir }, undefined), {
      logger: createLogger(process.env.WA_BRIDGE_TEST_LOG ?? 'silent'),
      pollMs: 100,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 1000,
    });

  afterAll(async () => {
    await close?.();
    await bridge?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says the bridge cannot be reached while it is down, and carries on by itself once it is back', async () => {
    bridge = await start('0');
    const port = String(new URL(bridge.url).port);
    await clientSays(bridge, { phone: '447700900123', name: 'Jane Smith', text: 'Is the contract ready to sign?' });
    const browser = await startBrowserFor(bridge.url);
    close = () => browser.browser.close();
    const page = await browser.context.newPage();
    await page.goto(`${bridge.url}/teams/index.html?view=personal`);
    await page.getByRole('button', { name: /Not on a matter yet/ }).click({ timeout: 20_000 });
    await page.getByRole('button', { name: /Jane Smith/ }).click({ timeout: 10_000 });
    const view = page.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    await view.locator('.stream-state[data-state="live"]').waitFor({ timeout: 15_000 });

    const { chat_token: chatId } = await bridge.store.db.selectFrom('conversations').select('chat_token').executeTakeFirstOrThrow();
    expect(await view.getByRole('region', { name: 'Retention' }).locator('.legal-hold').count()).toBe(0);
    await bridge.stop();
    bridge = undefined;
    await view.locator('.stream-state[data-state="offline"]').waitFor({ timeout: 15_000 });
    // While it is down, an operator places a hold on the conversation with the CLI.
    const held = await runWaBridge(dataDir, ['hold', 'place', '--conversation', chatId, '--reason', 'Regulator asked us to keep it', '--by', 'ops@firm.test']);
    expect(held.code, held.stderr).toBe(0);
    const reply = view.getByLabel('Reply', { exact: true });
    await reply.fill('The contract is ready; I will send it this afternoon.');
    await view.getByRole('button', { name: 'Send' }).click();
    // The reply form says so (the view may say it too, when a reload of the messages fails meanwhile).
    await view.getByRole('form', { name: 'Reply to the client' }).getByRole('alert').filter({ hasText: 'The bridge cannot be reached' }).waitFor({ timeout: 10_000 });
    // What was typed is still there to send again.
    expect(await reply.inputValue()).toBe('The contract is ready; I will send it this afternoon.');

    bridge = await start(port);
    const restarted = bridge;
    await view.locator('.stream-state[data-state="live"]').waitFor({ timeout: 20_000 });
    // Connected again, the view reads the conversation again: the hold placed meanwhile shows.
    await expect.poll(() => view.getByRole('region', { name: 'Retention' }).locator('.legal-hold').allInnerTexts(), { timeout: 10_000 }).toEqual([expect.stringContaining('Regulator asked us to keep it')]);
    await view.getByRole('button', { name: 'Send' }).click();
    await view.getByText('Reply queued for WhatsApp.').waitFor({ timeout: 10_000 });
    // Nothing still says the bridge is away.
    await expect.poll(() => view.getByRole('alert').filter({ hasText: 'The bridge cannot be reached' }).count(), { timeout: 10_000 }).toBe(0);
    await waitFor(() => restarted.sandbox!.simulator.sent.some((sent) => JSON.stringify(sent).includes('I will send it this afternoon')), 15_000, () => 'the reply after the restart never reached the simulator');
  });
});
