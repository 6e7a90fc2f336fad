import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { CloudApiSender } from '../../bridge-server/src/channels/cloud-api/send.js';
import { inboundMessage, statusUpdate, type StatusInput } from '../../bridge-server/src/channels/simulator/builders.js';
import { startSimulator, type Simulator } from '../../bridge-server/src/channels/simulator/server.js';
import type { Channel } from '../../bridge-server/src/core/ports.js';
import type { Job } from '../../bridge-server/src/core/records.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import { submitReply } from '../../bridge-server/src/flows/reply.js';
import { sendOutbound } from '../../bridge-server/src/flows/send.js';
import { FileBlobStore } from '../../bridge-server/src/store/blob-files.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { getOutbound } from '../../bridge-server/src/store/outbound.js';
import { SqlOutbox } from '../../bridge-server/src/store/outbox.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { testSecrets } from '../support/bridge.js';
import { openTestDatabase } from '../support/test-database.js';

/**
 * WhatsApp posts a reply's first status webhook as soon as it accepts the send, so the status
 * can reach the bridge before the send's own answer has been recorded as the reply's part. The
 * status is stored then but finds no part; recording the part applies it. The send goes to the
 * Cloud API simulator through the bridge's real sender; the channel around it delivers the
 * status webhook first, as a fast webhook would.
 */
describe('a status that overtakes the answer to its send', () => {
  const clock = { now: () => Date.now() };
  const author = { name: 'Tom Baker', address: 'tom.baker@firm.test' };
  let simulator: Simulator;
  let dir: string;
  let opened: OpenedDatabase;
  let store: SqlStore;
  let outbox: SqlOutbox;

  beforeAll(async () => {
    simulator = await startSimulator({ appSecret: testSecrets.appSecret, accessToken: testSecrets.accessToken });
  });
  afterAll(async () => {
    await simulator?.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-race-'));
    opened = await openTestDatabase(dir);
    store = new SqlStore(opened.db, 'default');
    outbox = new SqlOutbox(opened.db);
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ingestStatus = (input: StatusInput) => ingestBatch({ store, clock, tenant: 'default' }, normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(statusUpdate(input))))));

  /** A chat the client opened a minute ago, a text reply in it, and that reply's wa.send job. */
  async function replyWaitingToSend(from: string) {
    const envelope = inboundMessage({ from, name: 'Jane Smith', type: 'text', body: 'Any news?', timestamp: new Date(Date.now() - 60_000) });
    const { stored } = await ingestBatch({ store, clock, tenant: 'default' }, normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(envelope)))));
    const conversationId = stored[0]!.conversationId;
    const { commandId } = await submitReply({ store, clock, templates: [] }, { conversationId, text: 'Yes: signed today.', files: [], author, source: { kind: 'api', ref: `race-${from}` } });
    const row = await opened.db.selectFrom('outbox_jobs').selectAll().where('kind', '=', 'wa.send').where('payload_json', 'like', `%"commandId":${commandId}%`).executeTakeFirstOrThrow();
    const job = { id: row.id, kind: 'wa.send', payload: { conversationId, commandId }, conversationId, lane: 'whatsapp', sortKey: row.sort_key, state: 'running', attempts: 0, runAt: row.run_at, lastError: null, createdAt: row.created_at } as Job<'wa.send'>;
    return { conversationId, commandId, job };
  }

  /** The real Cloud API sender, with `before` run once WhatsApp has answered and before the bridge sees the answer. */
  function overtakingChannel(before: (waMessageId: string, callbackData: string | undefined) => Promise<void>): Channel {
    const sender = new CloudApiSender({ baseUrl: simulator.url, apiVersion: 'v23.0', accessToken: testSecrets.accessToken });
    return {
      kind: 'cloud-api',
      async send(message) {
        const receipt = await sender.send(message);
        await before(receipt.waMessageId, message.callbackData);
        return receipt;
      },
    };
  }

  const send = (job: Job<'wa.send'>, channel: Channel) =>
    sendOutbound({ store, outbox, blobs: new FileBlobStore(path.join(dir, 'blobs')), clock, tenant: 'default', channels: { 'cloud-api': channel } }, job);

  it('applies a failure reported before the part was recorded: the reply fails and the solicitor gets a notice', async () => {
    const { conversationId, commandId, job } = await replyWaitingToSend('447700900801');
    let early = { statuses: -1, state: '' };
    await send(
      job,
      overtakingChannel(async (id, callbackData) => {
        expect(callbackData).toBe(`reply:${commandId}:0`);
        const result = await ingestStatus({ id, status: 'failed', recipientId: '447700900801', callbackData, errors: [{ code: 131026, title: 'Message undeliverable' }] });
        early = { statuses: result.statuses, state: (await getOutbound(opened.db, commandId))!.state };
      }),
    );
    // Stored when it came, but nothing to apply it to yet.
    expect(early).toEqual({ statuses: 1, state: 'queued' });
    const record = await getOutbound(opened.db, commandId);
    expect(record).toMatchObject({ state: 'failed', errorCode: 'delivery_failed', parts: [{ index: 0, status: 'failed' }] });
    expect(record?.errorMessage).toContain('error 131026: Message undeliverable');
    const notices = await opened.db.selectFrom('outbox_jobs').select('payload_json').where('kind', '=', 'mail.notice').execute();
    expect(notices.map((n) => JSON.parse(n.payload_json) as unknown)).toEqual([{ conversationId, commandId }]);
  });

  it('stops a reply of several parts when WhatsApp reports its first part failed while the next is sent', async () => {
    const envelope = inboundMessage({ from: '447700900803', name: 'Jane Smith', type: 'text', body: 'Send the lease?', timestamp: new Date(Date.now() - 60_000) });
    const { stored } = await ingestBatch({ store, clock, tenant: 'default' }, normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(envelope)))));
    const conversationId = stored[0]!.conversationId;
    const blobs = new FileBlobStore(path.join(dir, 'blobs'));
    const pdf = Buffer.from('%PDF-1.4 lease');
    const sha256 = await blobs.put(pdf);
    // Text too long for a caption: the text goes first, then each file.
    const text = `The lease, with my notes: ${'clause by clause. '.repeat(70)}`;
    const files = ['Lease.pdf', 'Plan.pdf'].map((fileName) => ({ fileName, mimeType: 'application/pdf', sha256, size: pdf.length }));
    const { commandId } = await submitReply({ store, clock, templates: [] }, { conversationId, text, files, author, source: { kind: 'api', ref: 'race-parts' } });
    const row = await opened.db.selectFrom('outbox_jobs').selectAll().where('kind', '=', 'wa.send').where('payload_json', 'like', `%"commandId":${commandId}%`).executeTakeFirstOrThrow();
    const job = { id: row.id, kind: 'wa.send', payload: { conversationId, commandId }, conversationId, lane: 'whatsapp', sortKey: row.sort_key, state: 'running', attempts: 0, runAt: row.run_at, lastError: null, createdAt: row.created_at } as Job<'wa.send'>;
    const sentBefore = simulator.sent.length;
    let first: { id: string; callbackData: string | undefined } | undefined;
    const sender = new CloudApiSender({ baseUrl: simulator.url, apiVersion: 'v23.0', accessToken: testSecrets.accessToken });
    const channel: Channel = {
      kind: 'cloud-api',
      async send(message) {
        // The first part's failure arrives while the bridge sends the next one.
        if (first) await ingestStatus({ id: first.id, status: 'failed', recipientId: '447700900803', callbackData: first.callbackData, errors: [{ code: 131026, title: 'Message undeliverable' }] });
        const receipt = await sender.send(message);
        first ??= { id: receipt.waMessageId, callbackData: message.callbackData };
        return receipt;
      },
    };
    await send(job, channel);
    // The part on its way when the failure came went; the one after it did not, and the reply
    // stays failed and says why.
    expect(simulator.sent.length - sentBefore).toBe(2);
    const record = await getOutbound(opened.db, commandId);
    expect(record).toMatchObject({ state: 'failed', errorCode: 'delivery_failed', parts: [{ index: 0, status: 'failed' }, { index: 1 }] });
    expect(await opened.db.selectFrom('outbox_jobs').select('id').where('id', '=', job.id).execute()).toEqual([]);
    const notices = await opened.db.selectFrom('outbox_jobs').select('payload_json').where('kind', '=', 'mail.notice').execute();
    expect(notices.map((n) => JSON.parse(n.payload_json) as unknown)).toContainEqual({ conversationId, commandId });
  });

  it('applies an early delivered to the part, and the reply stays sent', async () => {
    const { commandId, job } = await replyWaitingToSend('447700900802');
    await send(
      job,
      overtakingChannel(async (id, callbackData) => {
        await ingestStatus({ id, status: 'sent', recipientId: '447700900802', callbackData });
        await ingestStatus({ id, status: 'delivered', recipientId: '447700900802', callbackData });
      }),
    );
    expect(await getOutbound(opened.db, commandId)).toMatchObject({ state: 'sent', errorCode: null, parts: [{ index: 0, status: 'delivered' }] });
    expect(await opened.db.selectFrom('outbox_jobs').select('id').where('kind', '=', 'mail.notice').execute()).toEqual([]);
  });
});
