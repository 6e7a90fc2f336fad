import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, variant, type MessageJson } from '../../bridge-server/src/channels/whatsapp-web/test-client.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { liveBridgeEnv, waitFor } from '../support/bridge.js';
import { freePort } from '../support/ports.js';
import { databaseEnvFor, openTestDatabase, testEngine } from '../support/test-database.js';

const childScript = fileURLToPath(new URL('../support/web-bridge-child.ts', import.meta.url));

interface WebBridge {
  tag: string;
  child: ChildProcess;
  states: string[];
  sent: string[];
  initialized: number;
  replied: Set<string>;
  output: () => string;
}

/**
 * Two bridge processes on one PostgreSQL database, both configured for the same linked WhatsApp
 * number (whatsapp-web.js, whose client is the test double: WhatsApp itself is out of reach). One
 * runs the session, the other stands by; replies accepted by either are sent by the owner, once.
 * The owner dies by SIGKILL just after WhatsApp took a reply and before it recorded that: the
 * other takes the session over when the lease runs out, catches up on what arrived meanwhile from
 * the marks the dead one left, finds that reply in the chat rather than sending it again, and
 * sends what is queued.
 */
describe('the WhatsApp Web session moves to another instance when its owner dies', () => {
  const leaseMs = 2000;
  let catcher: MailCatcher;
  let store: OpenedDatabase;
  const dirs: string[] = [];
  const bridges: WebBridge[] = [];
  let databaseEnv: Record<string, string>;
  const template = loadFixture<MessageJson>('text-from-client.json');
  // Instances on one store share its keys: the master key comes from the environment, not a data dir.
  const masterKey = randomBytes(32).toString('base64');

  const startWebBridge = async (tag: string, extraEnv: Record<string, string> = {}): Promise<WebBridge> => {
    const dataDir = await mkdtemp(path.join(tmpdir(), `wab-web-${tag}-`));
    dirs.push(dataDir);
    const env = {
      ...process.env,
      ...liveBridgeEnv({ port: await freePort(), dataDir, smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', cloudApiBaseUrl: 'http://127.0.0.1:9' }),
      ...databaseEnv,
      WA_BRIDGE_WHATSAPP_WEB: 'on',
      WA_BRIDGE_MASTER_KEY: masterKey,
      WA_BRIDGE_RETENTION_SCHEDULE: 'off',
      WA_BRIDGE_JOB_LEASE_SECONDS: '4',
      WA_BRIDGE_LOG_LEVEL: 'warn',
      WAB_CHILD_TAG: tag,
      WAB_CHILD_LEASE_MS: String(leaseMs),
      ...extraEnv,
    };
    const child = fork(childScript, [], { env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const bridge: WebBridge = { tag, child, states: [], sent: [], initialized: 0, replied: new Set(), output: () => output };
    child.on('message', (raw) => {
      const message = raw as { type: string; state?: string; text?: string; id?: string; message?: MessageJson };
      if (message.type === 'state' && message.state) bridge.states.push(message.state);
      if (message.type === 'started' && message.state) bridge.states.push(message.state);
      if (message.type === 'sent') {
        bridge.sent.push(message.text!);
        // The phone's chat is one: what one instance sent, the others' clients see in it too.
        for (const other of bridges) if (other !== bridge && other.child.connected && message.message) other.child.send({ type: 'phone', message: message.message });
      }
      if (message.type === 'initialized') bridge.initialized += 1;
      if (message.type === 'replied') bridge.replied.add(message.id!);
    });
    bridges.push(bridge);
    return bridge;
  };
  const stateOf = (bridge: WebBridge): string | undefined => bridge.states.at(-1);
  const describeAll = (): string => bridges.map((b) => `${b.tag}: states ${b.states.join(',')} sent ${b.sent.length}\n${b.output().slice(-2000)}`).join('\n');

  /** A solicitor's replies, one after the other (each accepted before the next is written). */
  const replies = async (via: WebBridge, conversationId: number, texts: string[]): Promise<void> => {
    for (const text of texts) {
      via.child.send({ type: 'reply', id: text, conversationId, text });
      await waitFor(() => via.replied.has(text), 10_000, describeAll);
    }
  };

  beforeAll(async () => {
    expect(testEngine).toBe('postgres');
    catcher = await startMailCatcher({});
    const first = await mkdtemp(path.join(tmpdir(), 'wab-web-store-'));
    dirs.push(first);
    databaseEnv = await databaseEnvFor(first);
    store = await openTestDatabase(first);
  });

  afterAll(async () => {
    for (const bridge of bridges) if (bridge.child.exitCode === null && bridge.child.signalCode === null) bridge.child.kill('SIGKILL');
    await store?.close();
    await catcher?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('runs the session on one instance, sends every reply once through it, and moves it on SIGKILL without losing or repeating a message', async () => {
    // The owner dies the moment WhatsApp has taken the fifth reply, before it can record the send.
    const a = await startWebBridge('A', { WAB_CHILD_DIE_AFTER_SENDING: 'reply 5' });
    await waitFor(() => stateOf(a) === 'ready', 30_000, describeAll);
    const b = await startWebBridge('B');
    await waitFor(() => stateOf(b) === 'standby', 30_000, describeAll);
    expect(b.initialized).toBe(0);

    // The client writes; the owner's live session ingests it.
    const liveAt = Math.ceil(Date.now() / 1000);
    a.child.send({ type: 'live', message: variant(template, { id: 'LIVE0001', timestamp: liveAt, body: 'Can we meet on Tuesday?' }) });
    b.child.send({ type: 'phone', message: variant(template, { id: 'LIVE0001', timestamp: liveAt, body: 'Can we meet on Tuesday?' }) });
    const eventsOf = async (): Promise<Array<{ wa_message_id: string; direction: string }>> =>
      store.db.selectFrom('events').select(['wa_message_id', 'direction']).where('kind', '=', 'message').orderBy('id').execute();
    await waitFor(async () => (await eventsOf()).length === 1, 15_000, describeAll);
    const { id: conversationId } = await store.db.selectFrom('conversations').select('id').executeTakeFirstOrThrow();

    // Replies accepted by the standby instance are sent by the owner, once each.
    const before = ['reply 1', 'reply 2', 'reply 3', 'reply 4', 'reply 5'];
    await replies(b, Number(conversationId), before);
    await waitFor(() => a.sent.length === before.length, 20_000, describeAll);
    expect(a.sent).toEqual(before);
    await waitFor(() => a.child.signalCode === 'SIGKILL', 10_000, describeAll);
    const outboundCount = async (): Promise<number> => (await eventsOf()).filter((e) => e.direction === 'outbound').length;
    expect(await outboundCount()).toBe(before.length - 1);
    expect(b.sent).toEqual([]);
    expect(b.initialized).toBe(0);

    // A message reaches the phone while nobody runs the session, and more replies queue. It is
    // stamped with a later second than the live one (liveAt was rounded up, so a fixed pause after
    // it could still end within that second): wait for the clock to pass it.
    await waitFor(() => Math.floor(Date.now() / 1000) > liveAt, 5_000, describeAll);
    const offlineAt = Math.floor(Date.now() / 1000);
    expect(offlineAt).toBeGreaterThan(liveAt);
    b.child.send({ type: 'phone', message: variant(template, { id: 'OFFLINE1', timestamp: offlineAt, body: 'Sorry, Wednesday instead?' }) });
    const after = ['reply 6', 'reply 7', 'reply 8'];
    await replies(b, Number(conversationId), after);

    // The survivor takes the session once the dead owner's lease ran out, catches up from the
    // dead owner's marks (so the message stamped before it was ready is found), finds the fifth
    // reply in the chat instead of sending it again, and sends the rest.
    await waitFor(() => stateOf(b) === 'ready', 20_000, describeAll);
    expect(b.initialized).toBe(1);
    await waitFor(() => b.sent.length === after.length, 20_000, describeAll);
    expect(b.sent).toEqual(after);
    await waitFor(async () => (await eventsOf()).some((e) => e.wa_message_id.includes('OFFLINE1')), 15_000, async () => JSON.stringify(await eventsOf()));
    // A send is seen by the client a moment before its outbound event is committed.
    const replyCount = before.length + after.length;
    await waitFor(async () => (await outboundCount()) >= replyCount, 15_000, async () => JSON.stringify(await eventsOf()));

    const events = await eventsOf();
    const inbound = events.filter((e) => e.direction === 'inbound').map((e) => e.wa_message_id);
    expect(inbound).toHaveLength(2);
    expect(new Set(inbound).size).toBe(2);
    // Each reply recorded once, with the id of the one send that carried it: the first five
    // sent by the dead owner, the fifth recorded by the survivor, the rest sent by it.
    const outbound = events.filter((e) => e.direction === 'outbound').map((e) => e.wa_message_id);
    expect(outbound).toHaveLength(replyCount);
    expect(new Set(outbound).size).toBe(outbound.length);
    expect(outbound.filter((id) => id.includes('_3EB0A'))).toHaveLength(before.length);
    expect(outbound.filter((id) => id.includes('_3EB0B'))).toHaveLength(after.length);
    const parts = await store.db
      .selectFrom('outbound_parts')
      .innerJoin('outbound_commands', 'outbound_commands.id', 'outbound_parts.command_id')
      .select(['outbound_parts.wa_message_id as id', 'outbound_commands.state as state'])
      .orderBy('outbound_commands.id')
      .execute();
    expect(parts).toHaveLength(replyCount);
    expect(parts.every((p) => p.state === 'sent')).toBe(true);
    expect(parts[before.length - 1]!.id).toContain('_3EB0A');
    const jobs = await store.db.selectFrom('outbox_jobs').select(['kind', 'state', 'last_error']).execute();
    expect(jobs.filter((j) => j.state === 'needs_attention')).toEqual([]);
  });
});
