import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { createApiClient, type ApiClient } from '@wa-bridge/shared/api/client';
import { startBridge, type Bridge, type StartOptions } from '../../bridge-server/src/app.js';
import { loadConfig } from '../../bridge-server/src/config/load.js';
import { createLogger } from '../../bridge-server/src/ops/logger.js';
import { launchChromium } from './browser.js';
import { waitFor } from './bridge.js';

/** Screenshots of the front ends, kept as test artifacts (gitignored). */
export const artifactsDir = path.resolve(import.meta.dirname, '../e2e/artifacts');

/** The width Outlook gives a task pane on a laptop screen. */
export const taskPaneViewport = { width: 350, height: 760 };

// teams-js asks Microsoft's CDN for its list of valid host domains; refused, it falls back to the
// list built into the library, so that one refusal is expected and not a failure.
const teamsJsValidDomains = /^https:\/\/res\.cdn\.office\.net\/teams-js\/validDomains\//;

export interface UiWorld {
  bridge: Bridge;
  browser: Browser;
  context: BrowserContext;
  /** The API as the sandbox's demo user, for arranging data and checking results. */
  api: ApiClient;
  /** Script errors, console errors and requests that tried to leave the machine. */
  problems: string[];
  stop(): Promise<void>;
}

/**
 * A sandbox bridge in this process (simulator as WhatsApp, catcher as the mailbox) and headless
 * Chromium whose every request to anything but the bridge is refused and recorded.
 */
export async function startUiWorld(env: Record<string, string> = {}, options: Pick<StartOptions, 'sandboxAutoStatuses'> = {}): Promise<UiWorld> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wab-ui-'));
  mkdirSync(artifactsDir, { recursive: true });
  const bridge = await startBridge(loadConfig({ PORT: '0', WA_BRIDGE_HOST: '127.0.0.1', WA_BRIDGE_DATA_DIR: dataDir, ...env }, undefined), {
    logger: createLogger(process.env.WA_BRIDGE_TEST_LOG ?? 'silent'),
    pollMs: 100,
    retryBaseDelayMs: 200,
    retryMaxDelayMs: 1000,
    ...options,
  });
  const { browser, context, problems } = await startBrowserFor(bridge.url);
  const anonymous = createApiClient({ baseUrl: bridge.url, getToken: () => Promise.reject(new Error('no token')) });
  const api = createApiClient({ baseUrl: bridge.url, getToken: async () => (await anonymous.sandboxToken()).accessToken });
  return {
    bridge,
    browser,
    context,
    api,
    problems,
    async stop() {
      await browser.close();
      await bridge.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium at task-pane width that may reach `baseUrl` only; anything else is refused and recorded. */
export async function startBrowserFor(baseUrl: string): Promise<{ browser: Browser; context: BrowserContext; problems: string[] }> {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: taskPaneViewport });
  const problems: string[] = [];
  await context.route(
    (url) => !url.href.startsWith(`${baseUrl}/`),
    (route) => {
      const url = route.request().url();
      if (!teamsJsValidDomains.test(url)) problems.push(`outside request: ${url}`);
      return route.abort();
    },
  );
  context.on('weberror', (error) => problems.push(`pageerror: ${error.error().message}`));
  context.on('console', (message) => {
    if (message.type() === 'error' && !isExpectedConsoleError(message.text())) problems.push(`console: ${message.text()}`);
  });
  return { browser, context, problems };
}

/** Console errors the browser prints for requests the test refused on purpose. */
function isExpectedConsoleError(text: string): boolean {
  return text.includes('net::ERR_FAILED') || text.includes('validDomains');
}

/** A client's WhatsApp message (sent at `at`, replying to `quoting`), through the simulator's signed webhook. */
export async function clientSays(bridge: Bridge, input: { phone: string; name: string; text: string; at?: Date; quoting?: string }): Promise<string> {
  const simulator = bridge.sandbox!.simulator;
  const envelope = simulator.inboundMessage({
    from: input.phone,
    name: input.name,
    type: 'text',
    body: input.text,
    ...(input.at ? { timestamp: input.at } : {}),
    ...(input.quoting ? { context: { id: input.quoting } } : {}),
  });
  const answer = await simulator.postWebhook(envelope);
  if (answer.status !== 200) throw new Error(`the bridge answered the webhook with ${answer.status}: ${answer.body}`);
  const messages = envelope.entry[0]?.changes[0]?.value.messages as Array<{ id: string }> | undefined;
  return messages?.[0]?.id ?? '';
}

/** Waits until the API lists a conversation with this client number, and returns it. */
export async function conversationOf(api: ApiClient, phone: string) {
  let found: Awaited<ReturnType<ApiClient['listConversations']>>['items'][number] | undefined;
  await waitFor(
    async () => {
      found = (await api.listConversations({ limit: 200 })).items.find((item) => item.client.number?.replace(/\D/g, '') === phone);
      return found !== undefined;
    },
    15_000,
    () => `no conversation with +${phone} appeared`,
  );
  return found!;
}
