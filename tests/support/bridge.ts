import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBridge, type Bridge, type StartOptions } from '../../bridge-server/src/app.js';
import { startSimulator, type Simulator } from '../../bridge-server/src/channels/simulator/server.js';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../bridge-server/src/config/load.js';
import { createLogger, type Logger } from '../../bridge-server/src/ops/logger.js';
import type { WebhookEnvelope } from '../../bridge-server/src/channels/simulator/builders.js';
import { signatureHeader, toMetaJson } from '../../bridge-server/src/channels/simulator/meta-json.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startMailStack, type MailStack } from './mail-stack.js';
import { databaseEnvFor } from './test-database.js';

export const testSecrets = {
  appSecret: 'test-app-secret-0123456789',
  verifyToken: 'test-verify-token-0123',
  accessToken: 'test-access-token-0123456789',
};

/**
 * The environment of a bridge configured like a real deployment: listening on `port` (0: any),
 * relaying to `smtpUrl`, the Cloud API at `cloudApiBaseUrl` with the test secrets.
 */
export function liveBridgeEnv(options: { port: number; dataDir: string; smtpUrl: string; mailbox: string; cloudApiBaseUrl: string }): Record<string, string> {
  return {
    PORT: String(options.port),
    WA_BRIDGE_HOST: '127.0.0.1',
    WA_BRIDGE_DATA_DIR: options.dataDir,
    WA_BRIDGE_SMTP_URL: options.smtpUrl,
    WA_BRIDGE_MAILBOX: options.mailbox,
    WA_BRIDGE_MAIL_DOMAIN: 'wa.firm.test',
    WA_BRIDGE_CLOUD_API_APP_SECRET: testSecrets.appSecret,
    WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: testSecrets.verifyToken,
    WA_BRIDGE_CLOUD_API_ACCESS_TOKEN: testSecrets.accessToken,
    WA_BRIDGE_CLOUD_API_BASE_URL: options.cloudApiBaseUrl,
  };
}

/** Posts a webhook signed as Meta signs it to the bridge at `bridgeUrl`; true when it answered 200. */
export async function postSignedWebhook(bridgeUrl: string, envelope: WebhookEnvelope): Promise<boolean> {
  const body = Buffer.from(toMetaJson(envelope), 'utf8');
  try {
    const response = await fetch(`${bridgeUrl}/webhooks/whatsapp`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signatureHeader(testSecrets.appSecret, body) }, body });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    // Refused or cut off (a bridge down or killed): Meta would redeliver.
    return false;
  }
}

export interface BridgeWorld {
  bridge: Bridge;
  simulator: Simulator;
  dataDir: string;
  /** Env the bridge was configured with (to start the same setup as a child process). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A bridge in this process, configured like a real deployment (not the sandbox): SMTP to the given
 * server, the Cloud API pointing at a simulator whose webhooks go to this bridge.
 */
export async function startBridgeWorld(options: {
  smtpUrl: string;
  mailbox: string;
  dataDir?: string;
  env?: Record<string, string>;
  retryMaxDelayMs?: number;
  mediaFetchAttempts?: number;
  unknownSendDelayMs?: number;
  /** The simulator posts sent, delivered and read for every send it takes. */
  autoStatuses?: boolean;
  createWebClient?: StartOptions['createWebClient'];
  graphNetworkClient?: StartOptions['graphNetworkClient'];
  /** Where the bridge logs; default silent (or WA_BRIDGE_TEST_LOG's level on stdout). */
  logger?: Logger;
}): Promise<BridgeWorld> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'wab-data-')));
  const simulator = await startSimulator({ appSecret: testSecrets.appSecret, accessToken: testSecrets.accessToken, ...(options.autoStatuses ? { autoStatuses: true } : {}) });
  const env: Record<string, string> = {
    ...liveBridgeEnv({ port: 0, dataDir, smtpUrl: options.smtpUrl, mailbox: options.mailbox, cloudApiBaseUrl: simulator.url }),
    ...(await databaseEnvFor(dataDir)),
    ...options.env,
  };
  const bridge = await startBridge(loadConfig(env, undefined), {
    logger: options.logger ?? createLogger(process.env.WA_BRIDGE_TEST_LOG ?? 'silent'),
    retryBaseDelayMs: 200,
    retryMaxDelayMs: options.retryMaxDelayMs ?? 1000,
    ...(options.mediaFetchAttempts === undefined ? {} : { mediaFetchAttempts: options.mediaFetchAttempts }),
    ...(options.unknownSendDelayMs === undefined ? {} : { unknownSendDelayMs: options.unknownSendDelayMs }),
    pollMs: 200,
    // /readyz checks the SMTP server each time it is asked, so a test sees an outage at once.
    smtpCheckMs: 0,
    ...(options.createWebClient ? { createWebClient: options.createWebClient } : {}),
    ...(options.graphNetworkClient ? { graphNetworkClient: options.graphNetworkClient } : {}),
  });
  simulator.webhookUrl = `${bridge.url}/webhooks/whatsapp`;
  return {
    bridge,
    simulator,
    dataDir,
    env,
    async stop() {
      await bridge.stop();
      await simulator.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` returns true, polling; throws with `describe()` on timeout. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, describe: () => Promise<string> | string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the bridge's outbox has no job pending or running. */
export async function waitForIdleOutbox(bridge: Bridge, timeoutMs = 20_000): Promise<void> {
  await waitFor(() => outboxIdle(bridge), timeoutMs, async () => `${await activeJobs(bridge)} jobs still to run`);
}

/** How many of the bridge's outbox jobs are pending or running. */
async function activeJobs(bridge: Bridge): Promise<number> {
  return Object.values(await bridge.outbox.counts()).reduce((n, states) => n + states.pending + states.running, 0);
}

/** True when the bridge's outbox has no job pending or running. */
export async function outboxIdle(bridge: Bridge): Promise<boolean> {
  return (await activeJobs(bridge)) === 0;
}

/**
 * Waits until no more mail can reach the stack's mailboxes: `relaysDone` says no job is left that
 * could send a mail (again), and Postfix has delivered everything it accepted. A test that checks
 * a message arrived once reads the mailbox after this, not after a pause that hopes to outlast a
 * duplicate: a relay retried late, or a mail still in Postfix's queue, is waited for here.
 */
export async function waitForMailSettled(stack: MailStack, relaysDone: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  let state = '';
  await waitFor(
    async () => {
      // In this order: once the relays are done, nothing enters the queue after it is seen empty.
      const done = await relaysDone();
      const empty = done && (await stack.queueEmpty());
      state = done ? 'mail still in the Postfix queue' : 'relay jobs still to run';
      return empty;
    },
    timeoutMs,
    () => state,
  );
}

export interface MailWorld {
  stack: MailStack;
  world: BridgeWorld;
}

/**
 * Registers hooks that start the private mail stack and a bridge relaying into it before the
 * suite, and stop both after it. Read the fields inside tests (they are set in beforeAll).
 */
export function useBridgeOnMailStack(env: Record<string, string> | ((stack: MailStack) => Record<string, string>) = {}, options: { logger?: Logger } = {}): MailWorld {
  const handle = {} as MailWorld;
  beforeAll(async () => {
    handle.stack = await startMailStack();
    const extra = typeof env === 'function' ? env(handle.stack) : env;
    handle.world = await startBridgeWorld({ smtpUrl: `smtp://127.0.0.1:${handle.stack.smtpPort}`, mailbox: handle.stack.mailbox, env: extra, ...options });
  });
  afterAll(async () => {
    await handle.world?.stop();
    await handle.stack?.stop();
  });
  return handle;
}

export interface CatcherWorld {
  catcher: MailCatcher;
  world: BridgeWorld;
}

/**
 * Registers hooks that start an SMTP catcher on loopback and a bridge relaying to it (mailbox
 * solicitor@firm.test) before the suite, and stop both after it; the lighter sibling of
 * useBridgeOnMailStack. Read the fields inside tests (they are set in beforeAll).
 */
export function useBridgeOnCatcher(): CatcherWorld {
  const handle = {} as CatcherWorld;
  beforeAll(async () => {
    handle.catcher = await startMailCatcher({});
    handle.world = await startBridgeWorld({ smtpUrl: handle.catcher.url, mailbox: 'solicitor@firm.test' });
  });
  afterAll(async () => {
    await handle.world?.stop();
    await handle.catcher?.stop();
  });
  return handle;
}

/**
 * The body components of a Cloud API template message whose variables are filled with `texts`, in
 * order, as Meta documents them: what the simulator must have received.
 */
export function templateBodyComponents(...texts: string[]): Array<{ type: 'body'; parameters: Array<{ type: 'text'; text: string }> }> {
  return [{ type: 'body', parameters: texts.map((text) => ({ type: 'text', text })) }];
}
