import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { CloudApiSender } from '../../bridge-server/src/channels/cloud-api/send.js';
import { inboundMessage, statusUpdate } from '../../bridge-server/src/channels/simulator/builders.js';
import { startSimulator, type Simulator } from '../../bridge-server/src/channels/simulator/server.js';
import { WhatsAppWebChannel } from '../../bridge-server/src/channels/whatsapp-web/channel.js';
import { normalizeMessage } from '../../bridge-server/src/channels/whatsapp-web/normalize.js';
import { FakeChat, FakeWebClient, loadFixture, toMessage, variant, type MessageJson } from '../../bridge-server/src/channels/whatsapp-web/test-client.js';
import { OutcomeUnknownError } from '../../bridge-server/src/core/errors.js';
import type { ChannelKind, InboundEvent } from '../../bridge-server/src/core/events.js';
import type { Channel, OutboundMessage } from '../../bridge-server/src/core/ports.js';
import { partCallbackData, type Job } from '../../bridge-server/src/core/records.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import { submitReply } from '../../bridge-server/src/flows/reply.js';
import { sendOutbound } from '../../bridge-server/src/flows/send.js';
import { FileBlobStore } from '../../bridge-server/src/store/blob-files.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { getOutbound } from '../../bridge-server/src/store/outbound.js';
import { SqlOutbox } from '../../bridge-server/src/store/outbox.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startBridgeWorld, testSecrets, waitFor, type BridgeWorld } from '../support/bridge.js';
import { freePort } from '../support/ports.js';
import { openTestDatabase } from '../support/test-database.js';

/** A chat's outbound events: each one's WhatsApp id and what the send flow put in its raw part. */
async function outboundEventsIn(db: OpenedDatabase['db'], conversationId: number) {
  const rows = await db.selectFrom('events').select(['wa_message_id', 'event_json']).where('conversation_id', '=', conversationId).where('direction', '=', 'outbound').orderBy('id').execute();
  return rows.map((row) => ({ waMessageId: row.wa_message_id, raw: (JSON.parse(row.event_json) as { raw: { replyId: number; foundBy?: string } }).raw }));
}

/**
 * Neither WhatsApp API takes an idempotency key, so a send WhatsApp took whose answer the bridge
 * never recorded (the process died before its commit, or the answer was lost or came too late)
 * would go to the client a second time when the job runs again. The second run looks first: a
 * status WhatsApp posted with the part's callback data (Cloud API), or the message in the chat
 * (WhatsApp Web). The jobs go through the real outbox (claimed, their lease run out or
 * rescheduled, claimed again); the sends go to the Cloud API simulator and to the test double of
 * whatsapp-web.js's client, the two boundaries no test can reach.
 */
describe('a reply WhatsApp already took is recorded, not sent again, when its job runs again', () => {
  const clock = { now: () => Date.now() };
  const author = { name: 'Tom Baker', address: 'tom.baker@firm.test' };
  const firm = '442071234567';
  let simulator: Simulator;
  let dir: string;
  let opened: OpenedDatabase;
  let store: SqlStore;
  let outbox: SqlOutbox;
  let blobs: FileBlobStore;

  beforeAll(async () => {
    simulator = await startSimulator({ appSecret: testSecrets.appSecret, accessToken: testSecrets.accessToken });
  });
  afterAll(async () => {
    await simulator?.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-handed-'));
    opened = await openTestDatabase(dir);
    store = new SqlStore(opened.db, 'default');
    outbox = new SqlOutbox(opened.db);
    blobs = new FileBlobStore(path.join(dir, 'blobs'));
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ingest = (events: InboundEvent[]) => ingestBatch({ store, clock, tenant: 'default' }, { events, statuses: [] });
  /** A Cloud API webhook as the bridge's webhook route hands it to ingest. */
  const ingestWebhook = (envelope: object) => ingestBatch({ store, clock, tenant: 'default' }, normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(envelope)))));
  const cloudSender = () => new CloudApiSender({ baseUrl: simulator.url, apiVersion: 'v23.0', accessToken: testSecrets.accessToken });
  const run = (job: Job<'wa.send'>, kind: ChannelKind, channel: Channel) => sendOutbound({ store, outbox, blobs, clock, tenant: 'default', channels: { [kind]: channel } }, job);

  /** Claims the reply's wa.send job as a worker would (each claim counts an attempt). */
  async function claimSend(commandId: number, leaseMs = 60_000): Promise<Job<'wa.send'>> {
    const jobs = await outbox.claim(50, Date.now(), leaseMs);
    const job = jobs.find((j): j is Job<'wa.send'> => j.kind === 'wa.send' && (j as Job<'wa.send'>).payload.commandId === commandId);
    if (!job) throw new Error(`the wa.send job of reply ${commandId} was not claimable: ${JSON.stringify(jobs.map((j) => [j.kind, j.payload]))}`);
    return job;
  }

  /** The process running `job` dies: its claim stays until the lease runs out, then the job is free again. */
  async function dies(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await outbox.recoverExpired(Date.now())).toBeGreaterThan(0);
  }

  const reply = (conversationId: number, text: string, ref: string) => submitReply({ store, clock, templates: [] }, { conversationId, text, files: [], author, source: { kind: 'api', ref } });

  /** The message the send flow would build for the reply's only part. */
  const partMessage = (to: string, text: string, commandId: number, businessId = firm): OutboundMessage => ({ to, businessId, text, files: [], callbackData: partCallbackData(commandId, 0) });

  const outboundEvents = (conversationId: number) => outboundEventsIn(opened.db, conversationId);

  describe('Cloud API', () => {
    async function cloudChat(from: string): Promise<number> {
      const envelope = inboundMessage({ from, name: 'Jane Smith', type: 'text', body: 'Any news?', timestamp: new Date(Date.now() - 60_000) });
      const { stored } = await ingestWebhook(envelope);
      return stored[0]!.conversationId;
    }
    /** WhatsApp's status webhook for a send, with the callback data the send carried. */
    const statusOf = (sent: Simulator['sent'][number]) =>
      ingestWebhook(statusUpdate({ id: sent.waMessageId, status: 'sent', recipientId: sent.to, callbackData: String(sent.body.biz_opaque_callback_data) }));

    it('finds the part by its status after the bridge died between the send and its record', async () => {
      const conversationId = await cloudChat('447700900811');
      const { commandId } = await reply(conversationId, 'Yes: signed today.', 'died-after-send');
      const before = simulator.sent.length;
      await claimSend(commandId, 1);
      // What the dead process did: WhatsApp took the part, then the process was gone.
      await cloudSender().send(partMessage('447700900811', 'Yes: signed today.', commandId, simulator.business.phoneNumberId));
      const taken = simulator.sent[before]!;
      await statusOf(taken);
      await dies();

      const again = await claimSend(commandId);
      expect(again.attempts).toBe(2);
      await run(again, 'cloud-api', cloudSender());

      expect(simulator.sent.length - before).toBe(1);
      expect(await getOutbound(opened.db, commandId)).toMatchObject({ state: 'sent', parts: [{ index: 0, waMessageId: taken.waMessageId, status: 'sent' }] });
      expect(await outboundEvents(conversationId)).toEqual([{ waMessageId: taken.waMessageId, raw: expect.objectContaining({ replyId: commandId, foundBy: 'status' }) }]);
      expect(await opened.db.selectFrom('outbox_jobs').select('id').where('id', '=', again.id).execute()).toEqual([]);
    });

    it('finds it after the answer to the send was lost on the way back', async () => {
      const conversationId = await cloudChat('447700900812');
      const { commandId } = await reply(conversationId, 'The letter went today.', 'answer-lost');
      const before = simulator.sent.length;
      simulator.loseNextSendAnswers(1);
      const first = await claimSend(commandId);
      // The worker waits before such a retry (outbox/retry.ts), long enough for the statuses to come.
      await expect(run(first, 'cloud-api', cloudSender())).rejects.toBeInstanceOf(OutcomeUnknownError);
      await outbox.reschedule(first.id, Date.now(), 'answer lost');
      await statusOf(simulator.sent[before]!);

      await run(await claimSend(commandId), 'cloud-api', cloudSender());
      expect(simulator.sent.length - before).toBe(1);
      expect(await getOutbound(opened.db, commandId)).toMatchObject({ state: 'sent', parts: [{ waMessageId: simulator.sent[before]!.waMessageId }] });
    });

    it('sends again when nothing shows WhatsApp took the part', async () => {
      const conversationId = await cloudChat('447700900813');
      const { commandId } = await reply(conversationId, 'Call me back please.', 'refused-first');
      const before = simulator.sent.length;
      simulator.failNextSends(1, 500, 1);
      const first = await claimSend(commandId);
      const refused = await run(first, 'cloud-api', cloudSender()).catch((error: unknown) => error);
      expect(refused).toMatchObject({ retry: 'transient' });
      expect(refused).not.toBeInstanceOf(OutcomeUnknownError);
      await outbox.reschedule(first.id, Date.now(), 'refused');
      // Nor does a send that found nobody listening.
      const nobody = new CloudApiSender({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiVersion: 'v23.0', accessToken: testSecrets.accessToken });
      const unreachable = await nobody.send(partMessage('447700900813', 'Call me back please.', commandId, simulator.business.phoneNumberId)).catch((error: unknown) => error);
      expect(unreachable).toMatchObject({ retry: 'transient', message: expect.stringContaining('ECONNREFUSED') });
      expect(unreachable).not.toBeInstanceOf(OutcomeUnknownError);

      await run(await claimSend(commandId), 'cloud-api', cloudSender());
      // The refused send is not in the simulator's record; the second one is.
      expect(simulator.sent.length - before).toBe(1);
      expect(await outboundEvents(conversationId)).toEqual([{ waMessageId: simulator.sent[before]!.waMessageId, raw: expect.not.objectContaining({ foundBy: expect.anything() }) }]);
    });
  });

  describe('WhatsApp Web', () => {
    const jid = '447700900123@c.us';
    let client: FakeWebClient;
    let ready = true;
    const session = { readyClient: () => (ready ? { client, businessId: firm } : undefined) };

    beforeEach(() => {
      ready = true;
      client = new FakeWebClient();
      client.info = { wid: { user: firm, _serialized: `${firm}@c.us` } };
      client.chats = [FakeChat.of(jid, 'Jane Smith')];
      // Sent messages are stamped now, as WhatsApp stamps them.
      client.sentTimestamp = () => Math.floor(Date.now() / 1000);
    });

    async function webChat(): Promise<number> {
      const fromJane = toMessage(variant(loadFixture<MessageJson>('text-from-client.json'), { timestamp: Math.floor(Date.now() / 1000) - 60 }));
      const event = normalizeMessage(fromJane, { business: { id: firm }, phoneOf: () => undefined });
      const { stored } = await ingest([event!]);
      return stored[0]!.conversationId;
    }

    it('finds the part in the chat after the bridge died between the send and its record', async () => {
      const conversationId = await webChat();
      const { commandId } = await reply(conversationId, 'We have exchanged contracts.', 'web-died');
      await claimSend(commandId, 1);
      const taken = await new WhatsAppWebChannel({ session }).send(partMessage(jid, 'We have exchanged contracts.', commandId));
      await dies();

      await run(await claimSend(commandId), 'whatsapp-web', new WhatsAppWebChannel({ session }));
      expect(client.sent).toHaveLength(1);
      expect(await getOutbound(opened.db, commandId)).toMatchObject({ state: 'sent', parts: [{ index: 0, waMessageId: taken.waMessageId }] });
      expect(await outboundEvents(conversationId)).toEqual([{ waMessageId: taken.waMessageId, raw: expect.objectContaining({ replyId: commandId, foundBy: 'chat' }) }]);
    });

    it('finds it after WhatsApp Web took the message but answered too late', async () => {
      const conversationId = await webChat();
      const { commandId } = await reply(conversationId, 'Completion is on Friday.', 'web-late');
      const accept = client.sendMessage.bind(client);
      let slow = true;
      client.sendMessage = async (...args) => {
        const sent = await accept(...args);
        if (slow) await new Promise((resolve) => setTimeout(resolve, 300));
        return sent;
      };
      const first = await claimSend(commandId);
      await expect(run(first, 'whatsapp-web', new WhatsAppWebChannel({ session, timeoutMs: 50 }))).rejects.toBeInstanceOf(OutcomeUnknownError);
      await outbox.reschedule(first.id, Date.now(), 'no answer');
      slow = false;

      await run(await claimSend(commandId), 'whatsapp-web', new WhatsAppWebChannel({ session, timeoutMs: 50 }));
      expect(client.sent).toHaveLength(1);
      expect(await getOutbound(opened.db, commandId)).toMatchObject({ state: 'sent', parts: [{ waMessageId: expect.stringContaining('3EB0F1E2D3C4B5A60001') }] });
    });

    it('never takes the message of an earlier reply with the same text, and sends when its own never went', async () => {
      const conversationId = await webChat();
      const channel = new WhatsAppWebChannel({ session });
      const firstReply = await reply(conversationId, 'Thank you.', 'web-same-1');
      await run(await claimSend(firstReply.commandId), 'whatsapp-web', channel);
      expect(client.sent).toHaveLength(1);

      // The second reply's first run finds the session down: nothing reaches WhatsApp.
      const secondReply = await reply(conversationId, 'Thank you.', 'web-same-2');
      ready = false;
      const first = await claimSend(secondReply.commandId);
      await expect(run(first, 'whatsapp-web', channel)).rejects.toMatchObject({ retry: 'transient' });
      await outbox.reschedule(first.id, Date.now(), 'not connected');
      ready = true;

      await run(await claimSend(secondReply.commandId), 'whatsapp-web', channel);
      expect(client.sent).toHaveLength(2);
      const [one, two] = await Promise.all([getOutbound(opened.db, firstReply.commandId), getOutbound(opened.db, secondReply.commandId)]);
      expect(two).toMatchObject({ state: 'sent', parts: [{ index: 0 }] });
      expect(two!.parts[0]!.waMessageId).not.toBe(one!.parts[0]!.waMessageId);
      expect((await outboundEvents(conversationId)).map((e) => e.raw.foundBy)).toEqual([undefined, undefined]);
    });
  });
});

/**
 * The same through a running bridge: its worker, its retry rules, the simulator posting the
 * statuses of every send it takes (with the callback data, as Meta does) to the bridge's webhook.
 */
describe('a running bridge whose send lost its answer', () => {
  let catcher: MailCatcher;
  let world: BridgeWorld;
  const unknownSendDelayMs = 2000;

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', autoStatuses: true, unknownSendDelayMs });
  });
  afterAll(async () => {
    await world?.stop();
    await catcher?.stop();
  });

  it('waits for the statuses, then records the part they name instead of sending it again', async () => {
    const from = '447700900821';
    await world.simulator.postWebhook(world.simulator.inboundMessage({ from, name: 'Jane Smith', type: 'text', body: 'Is it signed?' }));
    const db = world.bridge.store.db;
    await waitFor(async () => (await db.selectFrom('conversations').select('id').where('client_wa_id', '=', from).executeTakeFirst()) !== undefined, 10_000, () => 'no conversation');
    const { id: conversationId } = await db.selectFrom('conversations').select('id').where('client_wa_id', '=', from).executeTakeFirstOrThrow();

    const text = 'Yes, both copies are signed.';
    const before = world.simulator.sent.length;
    world.simulator.loseNextSendAnswers(1);
    const acceptedAt = Date.now();
    const { commandId } = await world.bridge.reply({ conversationId: Number(conversationId), text, files: [], author: { name: 'Tom Baker', address: 'tom.baker@firm.test' }, source: { kind: 'api', ref: 'lost-answer' } });
    await waitFor(async () => (await getOutbound(db, commandId))?.state === 'sent', 20_000, async () => JSON.stringify(await getOutbound(db, commandId)));
    // The retry came no sooner than the rule allows (the usual backoff here is 200 ms).
    expect(Date.now() - acceptedAt).toBeGreaterThanOrEqual(unknownSendDelayMs);

    const sends = world.simulator.sent.slice(before).filter((s) => JSON.stringify(s.body).includes(text));
    expect(sends).toHaveLength(1);
    expect(await getOutbound(db, commandId)).toMatchObject({ state: 'sent', parts: [{ index: 0, waMessageId: sends[0]!.waMessageId }] });
    expect(await outboundEventsIn(db, Number(conversationId))).toEqual([{ waMessageId: sends[0]!.waMessageId, raw: expect.objectContaining({ replyId: commandId, foundBy: 'status' }) }]);
  });
});
