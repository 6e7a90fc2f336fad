import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { defaultSimulatedBusiness, inboundMessage, statusUpdate, type InboundMessageInput, type SimulatedBusiness } from '../../bridge-server/src/channels/simulator/builders.js';
import type { InboundEvent, NormalizedBatch } from '../../bridge-server/src/core/events.js';
import type { EventRecord } from '../../bridge-server/src/core/records.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import { FileBlobStore } from '../../bridge-server/src/store/blob-files.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { markRelaySent, prepareRelay } from '../../bridge-server/src/store/relays.js';
import { readSandboxHistory, readSandboxPicture } from '../../bridge-server/src/store/sandbox-history.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { openTestDatabase } from '../support/test-database.js';

/**
 * What the sandbox reads back from the store when it starts over one that holds earlier
 * conversations: relayed mails (bytes from the blob store) and message events with their
 * delivery statuses, of its own simulated number and tenant only.
 */

const tenant = 'default';
const sandboxNumber = defaultSimulatedBusiness;
const otherNumber: SimulatedBusiness = { wabaId: '900000000000001', phoneNumberId: '900000000000002', displayPhoneNumber: '442079460001' };
const clock = { now: () => Date.now() };
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const cloudBatch = (envelope: object): NormalizedBatch => normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(envelope))));

describe('reading the sandbox history from the store', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let store: SqlStore;
  let blobs: FileBlobStore;
  let relayCount = 0;

  const ingest = async (batch: NormalizedBatch, inTenant = tenant): Promise<EventRecord[]> =>
    (await ingestBatch({ store: inTenant === tenant ? store : new SqlStore(opened.db, inTenant), clock, tenant: inTenant }, batch)).stored;
  const fromClient = (input: InboundMessageInput, business = sandboxNumber) => ingest(cloudBatch(inboundMessage(input, business)));
  /** A reply the firm sent, as the bridge records it once WhatsApp took it. */
  const fromFirm = async (to: string, body: string, waMessageId: string, business = sandboxNumber) => {
    const event: InboundEvent = {
      kind: 'message',
      channel: 'cloud-api',
      business: { id: business.phoneNumberId },
      client: { waId: to },
      waMessageId,
      versionKey: '',
      timestamp: Date.now(),
      direction: 'outbound',
      author: { id: 'tom.baker@firm.sandbox.test', name: 'Tom Baker' },
      content: { type: 'text', body },
      raw: {},
    };
    return ingest({ events: [event], statuses: [] });
  };
  const status = (waMessageId: string, state: 'sent' | 'delivered' | 'read' | 'failed', to: string) => ingest(cloudBatch(statusUpdate({ id: waMessageId, status: state, recipientId: to }, sandboxNumber)));
  /** A mail relayed for an event (or a cover mail), its bytes in the blob store; sent unless told otherwise. */
  const relayed = async (event: { conversationId: number; id: number | null }, raw: Buffer, sentAt: number | undefined) => {
    relayCount += 1;
    const mailMessageId = `<m${relayCount}@wa.sandbox.test>`;
    const rawSha256 = await blobs.put(raw);
    await prepareRelay(opened.db, { conversationId: event.conversationId, eventId: event.id, mailMessageId, rawSha256, rawSize: raw.length, preparedAt: 1_000 + relayCount });
    if (sentAt !== undefined) await markRelaySent(opened.db, mailMessageId, sentAt, '250 OK');
    return rawSha256;
  };
  const read = (limits: { mails?: number; messages?: number } = {}) =>
    readSandboxHistory(opened.db, blobs, { tenant, businessId: sandboxNumber.phoneNumberId, mails: limits.mails ?? 500, messages: limits.messages ?? 2000 });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-sandbox-history-'));
    opened = await openTestDatabase(dir);
    store = new SqlStore(opened.db, tenant);
    blobs = new FileBlobStore(path.join(dir, 'blobs'));
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads an empty store as no history', async () => {
    expect(await read()).toEqual({ mails: [], messages: [], notices: [] });
  });

  it('gives the failed replies whose notice went, oldest first, not one whose notice is still queued, nor another number’s', async () => {
    const [hello] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'Hello' });
    const [other] = await fromClient({ from: '447700900555', name: 'Someone Else', type: 'text', body: 'Not the sandbox' }, otherNumber);
    /** A reply that WhatsApp refused, its notice sent (its job gone) or still queued. */
    const refused = (conversationId: number, text: string, notice: 'sent' | 'queued') =>
      store.transaction(async (tx) => {
        const { id } = await store.insertOutbound(tx, { conversationId, text, files: [], author: { name: 'Tom Baker', address: 'tom.baker@firm.sandbox.test' }, source: { kind: 'api', ref: `api:${text}` } });
        await store.setOutboundState(tx, id, 'failed', { code: 'send_refused', message: 'WhatsApp refused the message (131026).' });
        if (notice === 'queued') await store.enqueue(tx, { kind: 'mail.notice', payload: { conversationId, commandId: id }, conversationId, sortKey: 0 });
        return id;
      });
    const first = await refused(hello!.conversationId, 'First refused', 'sent');
    const second = await refused(hello!.conversationId, 'Second refused', 'sent');
    await refused(hello!.conversationId, 'Notice on its way', 'queued');
    await refused(other!.conversationId, 'Another number', 'sent');

    const { notices } = await read();
    expect(notices.map(({ record }) => [record.id, record.command.text, record.state, record.errorCode])).toEqual([
      [first, 'First refused', 'failed', 'send_refused'],
      [second, 'Second refused', 'failed', 'send_refused'],
    ]);
    expect(notices.every(({ conversation }) => conversation.id === hello!.conversationId)).toBe(true);
    // As many as mails are read, the newest.
    expect((await read({ mails: 1 })).notices.map(({ record }) => record.id)).toEqual([second]);
  });

  it('gives the mails recorded as sent, in the order they went, byte for byte, and no other number’s', async () => {
    const [hello] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'Hello' });
    const [later] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'Still there?' });
    const [other] = await fromClient({ from: '447700900555', name: 'Someone Else', type: 'text', body: 'Not the sandbox' }, otherNumber);
    const cover = Buffer.from('Subject: cover\r\n\r\ncover mail\r\n');
    const first = Buffer.from('Subject: first\r\n\r\nHello\r\n');
    const prepared = Buffer.from('Subject: prepared\r\n\r\nnot sent yet\r\n');
    // Sent in the order cover, first, although recorded the other way round.
    await relayed({ conversationId: hello!.conversationId, id: hello!.id }, first, 3_000);
    await relayed({ conversationId: hello!.conversationId, id: null }, cover, 2_000);
    await relayed({ conversationId: other!.conversationId, id: other!.id }, Buffer.from('Subject: other\r\n\r\nother number\r\n'), 2_500);
    await relayed({ conversationId: later!.conversationId, id: later!.id }, prepared, undefined);

    const { mails } = await read();
    expect(mails.map((mail) => [sha256(mail.raw), mail.sentAt])).toEqual([
      [sha256(cover), 2_000],
      [sha256(first), 3_000],
    ]);
    expect(mails[1]!.raw.equals(first)).toBe(true);
    // The newest only, still oldest first.
    expect((await read({ mails: 1 })).mails.map((mail) => sha256(mail.raw))).toEqual([sha256(first)]);
  });

  it('gives the messages of both sides in the order they were stored, with the statuses of the firm’s, and no other tenant’s', async () => {
    const [question] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'Any news?' });
    await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'reaction', messageId: question!.waMessageId, emoji: '👍' });
    const [answer] = await fromFirm('447700900123', 'Yes: Friday.', 'wamid.FIRM1');
    await status('wamid.FIRM1', 'sent', '447700900123');
    await status('wamid.FIRM1', 'read', '447700900123');
    await status('wamid.FIRM1', 'delivered', '447700900123');
    const [file] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'document', media: { id: 'media-1', mimeType: 'application/pdf' }, filename: 'form.pdf', caption: 'Signed' });
    await fromClient({ from: '447700900777', name: 'Other Client', type: 'text', body: 'Another number' }, otherNumber);
    await ingest(cloudBatch(inboundMessage({ from: '447700900888', name: 'Other Tenant', type: 'text', body: 'Another tenant' }, sandboxNumber)), 'another-tenant');

    const { messages } = await read();
    expect(messages.map((message) => [message.record.waMessageId, message.record.direction, message.clientWaId])).toEqual([
      [question!.waMessageId, 'inbound', '447700900123'],
      [answer!.waMessageId, 'outbound', '447700900123'],
      [file!.waMessageId, 'inbound', '447700900123'],
    ]);
    expect([...messages[1]!.statuses].sort()).toEqual(['delivered', 'read', 'sent']);
    expect(messages[0]!.statuses).toEqual([]);
    expect(messages[2]!.record.event).toMatchObject({ content: { type: 'document', media: { fileName: 'form.pdf', caption: 'Signed' } } });

    // The newest of each direction.
    const newest = await read({ messages: 1 });
    expect(newest.messages.map((message) => message.record.waMessageId)).toEqual([answer!.waMessageId, file!.waMessageId]);
  });

  it("gives the archived picture of a photo or sticker of either side, once downloaded, and nothing for any other message or number", async () => {
    const png = Buffer.from('\x89PNG\r\n\x1a\nclient photo', 'latin1');
    const webp = Buffer.from('RIFF....WEBPVP8 sticker', 'latin1');
    const plan = Buffer.from('\x89PNG\r\n\x1a\nfirm plan', 'latin1');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    /** Records the file of an event's first attachment as downloaded into the blob store. */
    const downloaded = async (eventId: number, bytes: Buffer) => {
      const sha = await blobs.put(bytes);
      await store.transaction(async (tx) => store.setAttachmentBlob(tx, (await store.listAttachments(tx, eventId))[0]!.id, sha, bytes.length));
    };
    const picture = (waMessageId: string, businessId = sandboxNumber.phoneNumberId) => readSandboxPicture(opened.db, blobs, { tenant, businessId }, waMessageId);

    const [photo] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'image', media: { id: 'media-photo', mimeType: 'image/png' }, caption: 'The wall' });
    // Stored, but its file not yet downloaded from WhatsApp.
    expect(await picture(photo!.waMessageId)).toBeUndefined();
    await downloaded(photo!.id, png);
    expect(await picture(photo!.waMessageId)).toEqual({ bytes: png, mimeType: 'image/png' });

    const [sticker] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'sticker', media: { id: 'media-sticker', mimeType: 'image/webp' } });
    await downloaded(sticker!.id, webp);
    expect(await picture(sticker!.waMessageId)).toEqual({ bytes: webp, mimeType: 'image/webp' });

    // The firm's photo, its file in the blob store before it was sent.
    const planSha = await blobs.put(plan);
    const firmPhoto: InboundEvent = {
      kind: 'message',
      channel: 'cloud-api',
      business: { id: sandboxNumber.phoneNumberId },
      client: { waId: '447700900123' },
      waMessageId: 'wamid.FIRMPHOTO',
      versionKey: '',
      timestamp: Date.now(),
      direction: 'outbound',
      author: { id: 'tom.baker@firm.sandbox.test', name: 'Tom Baker' },
      content: { type: 'image', media: { waMediaId: 'upload-1', mimeType: 'image/png', storedSha256: planSha, storedSize: plan.length } },
      raw: {},
    };
    await ingest({ events: [firmPhoto], statuses: [] });
    expect(await picture('wamid.FIRMPHOTO')).toEqual({ bytes: plan, mimeType: 'image/png' });

    // A document is no picture, nor is an "image" whose type could run script.
    const [file] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'document', media: { id: 'media-doc', mimeType: 'image/png' }, filename: 'scan.png' });
    await downloaded(file!.id, png);
    expect(await picture(file!.waMessageId)).toBeUndefined();
    const [vector] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'image', media: { id: 'media-svg', mimeType: 'image/svg+xml' } });
    await downloaded(vector!.id, svg);
    expect(await picture(vector!.waMessageId)).toBeUndefined();

    // Another number's photo, another tenant's, and an id nobody stored.
    const [elsewhere] = await fromClient({ from: '447700900777', name: 'Other Client', type: 'image', media: { id: 'media-other', mimeType: 'image/png' } }, otherNumber);
    await downloaded(elsewhere!.id, png);
    expect(await picture(elsewhere!.waMessageId)).toBeUndefined();
    expect(await picture(elsewhere!.waMessageId, otherNumber.phoneNumberId)).toEqual({ bytes: png, mimeType: 'image/png' });
    expect(await readSandboxPicture(opened.db, blobs, { tenant: 'another-tenant', businessId: sandboxNumber.phoneNumberId }, photo!.waMessageId)).toBeUndefined();
    expect(await picture('wamid.NOBODY')).toBeUndefined();

    // The history says which photos were never downloaded (the simulator that held them is gone after a restart).
    const [lost] = await fromClient({ from: '447700900123', name: 'Jane Smith', type: 'image', media: { id: 'media-lost', mimeType: 'image/png' } });
    const { messages } = await read();
    const missing = messages.filter((message) => message.pictureMissing).map((message) => message.record.waMessageId);
    expect(missing).toEqual([lost!.waMessageId]);
    expect(messages.find((message) => message.record.waMessageId === photo!.waMessageId)).not.toHaveProperty('pictureMissing');
  });
});
