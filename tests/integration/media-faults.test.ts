import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { InboundMessageInput, WebhookEnvelope } from '../../bridge-server/src/channels/simulator/builders.js';
import { openBlobStore } from '../../bridge-server/src/archive/keyring.js';
import type { JobSummary } from '../../bridge-server/src/store/outbox.js';
import { startBridgeWorld, waitFor, waitForMailSettled, type BridgeWorld } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { fetchAll } from '../support/imap.js';
import { parseAll, sha256Hex, type ReadMail } from '../support/mail-assert.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { startMediaGate, type MediaGate } from '../support/media-gate.js';
import { canMount, mountSmallDisk, type SmallDisk } from '../support/small-disk.js';

const waIdOf = (envelope: WebhookEnvelope): string => (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;

/** Seconds a download may stay silent in these tests (WA_BRIDGE_MEDIA_TIMEOUT_SECONDS). */
const mediaTimeoutSeconds = 1;
/** Tries of a download before it waits for a person, in these tests. */
const mediaFetchAttempts = 8;

/**
 * Media downloads that go wrong, over the real mail stack: the disk that holds the blobs fills
 * up, and Meta's media server stalls mid-download. Either way the event is kept, the media.fetch
 * job says why it failed and is tried again, nothing half-written stays behind, and once the
 * fault clears the message reaches the mailbox once, with its attachment.
 */
describe.skipIf(!canMount)('faults: media downloads', () => {
  let stack: MailStack;
  let gate: MediaGate;
  let disk: SmallDisk | undefined;
  let dataDir: string;
  let world: BridgeWorld;
  let clock = Date.now() - 3_600_000;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-media-faults-'));
    // The blobs (media and relayed mail) on a disk of their own: 8 MiB, filled up by the test.
    disk = await mountSmallDisk(path.join(dataDir, 'blobs'), 8 * 1024 * 1024);
    stack = await startMailStack();
    gate = await startMediaGate();
    world = await startBridgeWorld({
      smtpUrl: `smtp://127.0.0.1:${stack.smtpPort}`,
      mailbox: stack.mailbox,
      dataDir,
      // The shortest backoff (every retry after the base delay, 200 ms), and 8 tries instead of 16
      // (the limit itself is retry.test.ts's), so the download that never finishes uses them up in
      // about 10 s, nearly all of it the tries' own timeouts.
      retryMaxDelayMs: 200,
      mediaFetchAttempts,
      env: { WA_BRIDGE_CLOUD_API_BASE_URL: gate.url, WA_BRIDGE_MEDIA_TIMEOUT_SECONDS: String(mediaTimeoutSeconds) },
    });
    gate.target = world.simulator.url;
  });
  afterAll(async () => {
    // Each step on its own, so one failure still lets the disk be unmounted and the dir removed.
    const steps = [() => world?.stop(), () => gate?.stop(), () => stack?.stop(), () => disk?.unmount(), () => (dataDir ? rm(dataDir, { recursive: true, force: true }) : undefined)];
    for (const step of steps) await Promise.resolve(step()).catch((error: unknown) => console.error('media-faults cleanup:', error));
  });

  /** Posts one message as a signed webhook (each a second after the last); returns its WhatsApp id. */
  const send = async (input: InboundMessageInput): Promise<string> => {
    clock += 1000;
    const envelope = world.simulator.inboundMessage({ ...input, timestamp: new Date(clock) });
    const answer = await world.simulator.postWebhook(envelope);
    expect(answer.status, answer.body).toBe(200);
    return waIdOf(envelope);
  };
  const mailbox = async (): Promise<ReadMail[]> => parseAll(await fetchAll(stack, 'solicitor'));
  const mailsFor = (mails: ReadMail[], waMessageId: string) => mails.filter((m) => m.header('x-whatsapp-message-id') === waMessageId);
  /** No relay job of the events of `ids` is left to run: none of them can be mailed (again). */
  const relaysDoneFor = async (ids: string[]): Promise<boolean> => {
    const db = world.bridge.store.db;
    const events = await db.selectFrom('events').select('id').where('wa_message_id', 'in', ids).execute();
    const eventIds = new Set(events.map((event) => Number(event.id)));
    const jobs = await db.selectFrom('outbox_jobs').select('payload_json').where('kind', '=', 'mail.relay').where('state', 'in', ['pending', 'running']).execute();
    return !jobs.some((job) => eventIds.has(Number((JSON.parse(job.payload_json) as { eventId: number | null }).eventId)));
  };
  /** Waits until every one of `ids` has a mail and nothing more can arrive for them, and returns the mailbox. */
  const waitForMails = async (ids: string[], timeoutMs = 60_000): Promise<ReadMail[]> => {
    let mails: ReadMail[] = [];
    await waitFor(
      async () => {
        mails = await mailbox();
        return ids.every((id) => mailsFor(mails, id).length > 0);
      },
      timeoutMs,
      async () => `waiting for mail of ${ids.filter((id) => mailsFor(mails, id).length === 0).join(', ')}; jobs: ${JSON.stringify(await world.bridge.outbox.list())}`,
    );
    await waitForMailSettled(stack, () => relaysDoneFor(ids));
    return mailbox();
  };

  /** The stored event of a WhatsApp message, with its attachment row (if any). */
  const storedEvent = async (waMessageId: string) => {
    const db = world.bridge.store.db;
    const event = await db.selectFrom('events').select(['id', 'conversation_id']).where('wa_message_id', '=', waMessageId).executeTakeFirst();
    const attachment = event ? await db.selectFrom('attachments').selectAll().where('event_id', '=', event.id).executeTakeFirst() : undefined;
    return { event, attachment };
  };
  const jobsOf = async (conversationId: number): Promise<JobSummary[]> => (await world.bridge.outbox.list({ limit: 1000 })).filter((j) => j.conversationId === conversationId);
  /** Files in the blob store that are not blobs: temporary (half-written) files. */
  const strayFiles = async (): Promise<string[]> =>
    (await readdir(path.join(dataDir, 'blobs'), { recursive: true })).filter((name) => name !== 'filler.bin' && !/^[0-9a-f]{2}(\/[0-9a-f]{64})?$/.test(name));
  const blobFile = (sha256: string) => path.join(dataDir, 'blobs', sha256.slice(0, 2), sha256);

  it('keeps a document that finds the blob disk full, retries it, and relays it once when space is freed', async () => {
    const document = randomBytes(1024 * 1024);
    const client = { from: '447700900501', name: 'Disk Full Client' };
    // A first message opens the conversation while there is room.
    const hello = await send({ ...client, type: 'text', body: 'Sending the signed lease next.' });
    await waitForMails([hello]);

    await disk!.fillLeaving(256 * 1024);
    onTestFinished(() => disk!.release());
    const waId = await send({ ...client, type: 'document', media: world.simulator.addMedia(document, 'application/pdf'), filename: 'Lease.pdf', caption: 'Signed lease' });

    // The event is stored at once; its attachment waits for the bytes.
    const { event, attachment } = await storedEvent(waId);
    expect(event).toBeDefined();
    expect(attachment).toMatchObject({ mime_type: 'application/pdf', sha256: null });

    // The download fails on ENOSPC with a message that says so, and is tried again (not parked).
    // Looked at between two tries (the job waits out its backoff), so no write is under way.
    let fetchJob: JobSummary | undefined;
    await waitFor(
      async () => {
        fetchJob = (await jobsOf(event!.conversation_id)).find((j) => j.kind === 'media.fetch');
        return fetchJob?.state === 'pending' && fetchJob.attempts >= 2 && (fetchJob.lastError ?? '').includes('ENOSPC') && fetchJob.runAt > Date.now() + 100;
      },
      30_000,
      () => JSON.stringify(fetchJob),
    );
    const between = await strayFiles();
    expect(fetchJob!.lastError).toContain('the disk of the blob store is full (ENOSPC)');
    expect(fetchJob!.lastError).toContain(`${document.length} bytes`);
    // Nothing half-written: no temporary file, no blob, no mail.
    expect(between).toEqual([]);
    expect(existsSync(blobFile(sha256Hex(document)))).toBe(false);
    expect(mailsFor(await mailbox(), waId)).toHaveLength(0);

    await disk!.release();
    const mails = await waitForMails([waId]);
    const relayed = mailsFor(mails, waId);
    expect(relayed).toHaveLength(1);
    expect(relayed[0]!.parsed.attachments).toHaveLength(1);
    expect(sha256Hex(relayed[0]!.parsed.attachments[0]!.content)).toBe(sha256Hex(document));
    expect(mailsFor(mails, hello)).toHaveLength(1);

    // The blob is stored under its hash and reads back as the same bytes.
    const after = await storedEvent(waId);
    expect(after.attachment).toMatchObject({ sha256: sha256Hex(document), size: document.length });
    const { store: blobs } = await openBlobStore(world.bridge.config, world.bridge.store.db);
    expect(sha256Hex(await blobs.get(sha256Hex(document)))).toBe(sha256Hex(document));
    expect(await strayFiles()).toEqual([]);
    expect(await jobsOf(event!.conversation_id)).toEqual([]);
  }, 120_000);

  it('keeps a document whose relayed mail finds the blob disk full pending, past the tries an unknown failure gets, and relays it once when space is freed; texts relay meanwhile', async () => {
    const client = { from: '447700900502', name: 'Full Disk Mail' };
    const other = { from: '447700900503', name: 'Full Disk Text' };
    const hello = await send({ ...client, type: 'text', body: 'Is Tuesday still fine?' });
    await waitForMails([hello]);

    // Room for the document's blob (400 KiB, sealed) but not for its relayed mail, which carries it
    // base64-encoded (some 550 KiB) and is larger than a database row keeps (INLINE_BLOB_BYTES).
    const document = randomBytes(400 * 1024);
    await disk!.fillLeaving(480 * 1024);
    onTestFinished(() => disk!.release());
    const waId = await send({ ...client, type: 'document', media: world.simulator.addMedia(document, 'application/pdf'), filename: 'Deeds.pdf', caption: 'Then I will bring the deeds.' });
    const { event } = await storedEvent(waId);
    expect(event).toBeDefined();
    let relayJob: JobSummary | undefined;
    await waitFor(
      async () => {
        relayJob = (await jobsOf(event!.conversation_id)).find((j) => j.kind === 'mail.relay');
        // More tries than the 8 after which a failure of unknown kind waits for a person.
        return relayJob?.state === 'pending' && relayJob.attempts >= 10 && relayJob.runAt > Date.now() + 100;
      },
      60_000,
      () => JSON.stringify(relayJob),
    );
    expect(relayJob!.lastError).toContain('the disk of the blob store is full (ENOSPC)');
    expect(existsSync(blobFile(sha256Hex(document)))).toBe(true);
    expect(await strayFiles()).toEqual([]);
    expect(mailsFor(await mailbox(), waId)).toHaveLength(0);

    // Another chat's texts still reach the mailbox: a mail of a few kilobytes is kept in the
    // database, so the full blob disk does not stop it.
    const texts = [await send({ ...other, type: 'text', body: 'Are you in the office today?' }), await send({ ...other, type: 'text', body: 'I will call at noon.' })];
    const meanwhile = await waitForMails(texts);
    for (const id of texts) expect(mailsFor(meanwhile, id)).toHaveLength(1);
    expect(mailsFor(meanwhile, waId)).toHaveLength(0);

    await disk!.release();
    const mails = await waitForMails([waId]);
    const relayed = mailsFor(mails, waId);
    expect(relayed).toHaveLength(1);
    expect(sha256Hex(relayed[0]!.parsed.attachments[0]!.content)).toBe(sha256Hex(document));
    expect(mailsFor(mails, hello)).toHaveLength(1);
    expect(await strayFiles()).toEqual([]);
    expect(await jobsOf(event!.conversation_id)).toEqual([]);
  }, 120_000);

  it('gives up on a stalled download and retries it, while other chats relay; the chat relays in order once it answers', async () => {
    const photo = randomBytes(512 * 1024);
    const stalled = { from: '447700900601', name: 'Stalled Photo' };
    const other = { from: '447700900602', name: 'Other Chat' };
    const media = world.simulator.addMedia(photo, 'image/jpeg');
    gate.stall(media.id, 64 * 1024);

    const photoId = await send({ ...stalled, type: 'image', media, caption: 'The crack in the wall' });
    const laterText = await send({ ...stalled, type: 'text', body: 'Did the photo come through?' });
    const others = [];
    for (let i = 0; i < 3; i += 1) others.push(await send({ ...other, type: 'text', body: `Other chat, message ${i}` }));

    // Another conversation relays while the download hangs.
    const whileStalled = await waitForMails(others);
    for (const id of others) expect(mailsFor(whileStalled, id)).toHaveLength(1);

    // The bridge hangs up after its timeout and tries again; each try stalls the same way.
    const { event } = await storedEvent(photoId);
    expect(event).toBeDefined();
    let fetchJob: JobSummary | undefined;
    await waitFor(
      async () => {
        fetchJob = (await jobsOf(event!.conversation_id)).find((j) => j.kind === 'media.fetch');
        return gate.abandoned(media.id) >= 2 && (fetchJob?.lastError ?? '').includes('no data for');
      },
      30_000,
      () => `${gate.downloads(media.id)} downloads, ${gate.abandoned(media.id)} abandoned; job ${JSON.stringify(fetchJob)}`,
    );
    expect(fetchJob!.state).not.toBe('needs_attention');
    expect(fetchJob!.lastError).toContain(`no data for ${mediaTimeoutSeconds * 1000} ms (65536 of ${photo.length} bytes, discarded)`);
    // The same chat's later text waits behind the photo, stored and queued, not lost.
    expect(await storedEvent(laterText)).toMatchObject({ event: { conversation_id: event!.conversation_id } });
    expect((await jobsOf(event!.conversation_id)).map((j) => j.kind)).toEqual(['media.fetch', 'mail.relay']);
    const stalledMails = await mailbox();
    expect(mailsFor(stalledMails, photoId)).toHaveLength(0);
    expect(mailsFor(stalledMails, laterText)).toHaveLength(0);
    expect(await strayFiles()).toEqual([]);
    expect(existsSync(blobFile(sha256Hex(photo)))).toBe(false);

    gate.open(media.id);
    const mails = await waitForMails([photoId, laterText]);
    const photoMails = mailsFor(mails, photoId);
    const textMails = mailsFor(mails, laterText);
    expect(photoMails).toHaveLength(1);
    expect(textMails).toHaveLength(1);
    expect(photoMails[0]!.parsed.attachments).toHaveLength(1);
    expect(sha256Hex(photoMails[0]!.parsed.attachments[0]!.content)).toBe(sha256Hex(photo));
    // In the chat's order: the photo went first, the text after it. Read from the bridge's relay
    // records: Postfix delivers in parallel, so the mailbox's order is not the order of sending.
    const relays = await world.bridge.store.db
      .selectFrom('mail_relays')
      .innerJoin('events', 'events.id', 'mail_relays.event_id')
      .select(['mail_relays.id', 'mail_relays.sent_at', 'events.wa_message_id'])
      .where('events.wa_message_id', 'in', [photoId, laterText])
      .orderBy('mail_relays.id')
      .execute();
    expect(relays.map((r) => r.wa_message_id)).toEqual([photoId, laterText]);
    expect(relays[0]!.sent_at).not.toBeNull();
    expect(relays[0]!.sent_at!).toBeLessThanOrEqual(relays[1]!.sent_at!);
    for (const id of others) expect(mailsFor(mails, id)).toHaveLength(1);
    expect(await storedEvent(photoId)).toMatchObject({ attachment: { sha256: sha256Hex(photo), size: photo.length } });
    expect(await strayFiles()).toEqual([]);
    expect(await jobsOf(event!.conversation_id)).toEqual([]);
  }, 120_000);

  it('parks a download that never finishes after its last try, lets the chat go on, and relays the photo once when an operator retries it', async () => {
    const photo = randomBytes(256 * 1024);
    const chat = { from: '447700900701', name: 'Never Finishes' };
    const media = world.simulator.addMedia(photo, 'image/jpeg');
    gate.stall(media.id, 16 * 1024);
    const photoId = await send({ ...chat, type: 'image', media, caption: 'The boundary fence' });
    const laterText = await send({ ...chat, type: 'text', body: 'That was the fence.' });
    const { event } = await storedEvent(photoId);
    expect(event).toBeDefined();

    // Every try hangs up after the timeout. After the last one the job waits for a person, and
    // the text queued behind it goes out: held up, never lost.
    const mails = await waitForMails([laterText], 150_000);
    expect(mailsFor(mails, laterText)).toHaveLength(1);
    expect(mailsFor(mails, photoId)).toHaveLength(0);
    const listed = await runWaBridge(dataDir, ['jobs', 'list', '--json', '--state', 'needs_attention']);
    expect(listed.code, listed.stderr).toBe(0);
    const parked = listed.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as JobSummary)
      .filter((job) => job.conversationId === event!.conversation_id);
    expect(parked).toMatchObject([{ kind: 'media.fetch', state: 'needs_attention', attempts: mediaFetchAttempts }]);
    expect(parked[0]!.lastError).toContain(`no data for ${mediaTimeoutSeconds * 1000} ms (16384 of ${photo.length} bytes, discarded)`);
    expect(gate.abandoned(media.id)).toBeGreaterThanOrEqual(2);
    expect(await strayFiles()).toEqual([]);
    expect(existsSync(blobFile(sha256Hex(photo)))).toBe(false);

    gate.open(media.id);
    const retried = await runWaBridge(dataDir, ['jobs', 'retry', String(parked[0]!.id)]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain('1 job(s) queued again');
    const after = await waitForMails([photoId]);
    expect(mailsFor(after, photoId)).toHaveLength(1);
    expect(sha256Hex(mailsFor(after, photoId)[0]!.parsed.attachments[0]!.content)).toBe(sha256Hex(photo));
    expect(mailsFor(after, laterText)).toHaveLength(1);
    expect(await strayFiles()).toEqual([]);
    expect(await jobsOf(event!.conversation_id)).toEqual([]);
  }, 240_000);
});
