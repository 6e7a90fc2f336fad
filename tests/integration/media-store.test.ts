import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { waitForCount } from '../support/imap.js';
import { parseAll } from '../support/mail-assert.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { s3Credentials, startS3Server, type S3Server } from '../support/s3-server.js';
import { databaseEnvFor, onPostgres, openRawStore } from '../support/test-database.js';
import { unzip } from '../support/zip.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * WA_BRIDGE_MEDIA_STORE=s3://…: a bridge relays Cloud API media (from the simulator, which serves
 * Meta's media endpoints) into the real Postfix + Dovecot mailbox while the bytes live, sealed, in
 * a real S3-compatible server; the operator's commands (verify, export, backup, erasure, restore)
 * read and write the same bucket.
 */
describe('media in an S3-compatible bucket', () => {
  let s3: S3Server;
  let stack: MailStack;
  let world: BridgeWorld | undefined;
  let dataDir: string;
  let work: string;
  let settings: Record<string, string>;
  const client = '447700900711';
  const photo = randomBytes(30_000);
  const photoKey = `firm/wa/${sha(photo).slice(0, 2)}/${sha(photo)}`;
  let chatId = '';
  let backupFile = '';
  const waBridge = (args: string[], extra: Record<string, string> = {}) => runWaBridge(dataDir, args, { ...settings, ...extra });

  beforeAll(async () => {
    s3 = await startS3Server();
    stack = await startMailStack();
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-s3-data-'));
    work = await mkdtemp(path.join(tmpdir(), 'wab-s3-work-'));
    // Credentials reach the bridge the standard way, as AWS variables; the URL names only where.
    Object.assign(process.env, s3Credentials);
    settings = {
      ...s3Credentials,
      WA_BRIDGE_MEDIA_STORE: `s3://${s3.bucket}/firm/wa?endpoint=${s3.url}&region=eu-west-2&forcePathStyle=true`,
      WA_BRIDGE_BLOB_ENCRYPTION: 'on',
      WA_BRIDGE_RETENTION_SCHEDULE: 'off',
    };
    world = await startBridgeWorld({ smtpUrl: `smtp://127.0.0.1:${stack.smtpPort}`, mailbox: stack.mailbox, dataDir, env: settings });
  });

  afterAll(async () => {
    await world?.stop();
    await stack?.stop();
    await s3?.stop();
    for (const dir of [dataDir, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('relays a photo into the mailbox, with the bytes sealed in the bucket and nothing on local disk', async () => {
    const sim = world!.simulator;
    const answer = await sim.postWebhook(sim.inboundMessage({ from: client, name: 'Clara Client', type: 'image', media: sim.addMedia(photo, 'image/jpeg'), caption: 'The damage' }));
    expect(answer.status, answer.body).toBe(200);
    const mails = await parseAll(await waitForCount(stack, 'solicitor', 2, 60_000));
    const withPhoto = mails.filter((mail) => mail.parsed.attachments.some((a) => a.content.equals(photo)));
    expect(withPhoto).toHaveLength(1);
    chatId = withPhoto[0]!.header('X-WhatsApp-Chat-Id')!;
    expect(chatId).toMatch(/^[a-z2-7]{26}$/);

    const keys = await s3.keys();
    expect(keys).toContain(photoKey);
    for (const key of keys) expect(key).toMatch(/^firm\/wa\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    // The photo, and every relayed mail: the exact bytes sent are kept, sealed, in the bucket or
    // (a mail of up to INLINE_BLOB_BYTES, as these are) in the blob's row of the database.
    for (const key of keys) expect((await s3.read(key))!.subarray(0, 4).toString(), key).toBe('WAB2');
    const raw = await openRawStore(dataDir, { readonly: true });
    try {
      const relays = await raw.all<{ raw_sha256: string; content: Buffer | null }>('SELECT r.raw_sha256, b.content FROM mail_relays r JOIN blobs b ON b.sha256 = r.raw_sha256');
      expect(relays).toHaveLength(mails.length);
      for (const relay of relays) {
        const kept = relay.content ?? (await s3.read(`firm/wa/${relay.raw_sha256.slice(0, 2)}/${relay.raw_sha256}`));
        expect(kept?.subarray(0, 4).toString(), relay.raw_sha256).toBe('WAB2');
      }
      expect(relays.filter((relay) => relay.content !== null)).toHaveLength(mails.length);
    } finally {
      await raw.close();
    }
    const stored = (await s3.read(photoKey))!;
    expect(stored.includes(photo.subarray(0, 64))).toBe(false);
    expect(stored.includes(photo.subarray(20_000, 20_064))).toBe(false);
    expect(existsSync(path.join(dataDir, 'blobs'))).toBe(false);
  });

  it('verifies the archive against the bucket, and names an object that was changed or removed', async () => {
    const ok = await waBridge(['verify']);
    expect(ok.stdout, ok.stderr).toMatch(/^OK /m);
    expect(ok.code).toBe(0);

    const stored = (await s3.read(photoKey))!;
    const changed = Buffer.from(stored);
    changed[stored.length - 50] = changed[stored.length - 50]! ^ 1;
    await s3.write(photoKey, changed);
    const damaged = await waBridge(['verify']);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toContain(`FAIL [media] blob ${sha(photo).slice(0, 12)}… does not decrypt: its bytes were changed or damaged after it was stored`);

    await s3.remove(photoKey);
    const missing = await waBridge(['verify']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`FAIL [media] blob ${sha(photo).slice(0, 12)}… is listed but its file is missing`);

    await s3.write(photoKey, stored);
    expect((await waBridge(['verify'])).code).toBe(0);
  });

  it('exports the conversation with its media read from the bucket', async () => {
    const bundle = path.join(work, 'bundle.zip');
    const made = await waBridge(['export', '--conversation', chatId, '--out', bundle]);
    expect(made.code, made.stderr).toBe(0);
    const entries = await unzip(bundle);
    const media = [...entries.keys()].filter((name) => name.includes('/media/'));
    expect(media.map((name) => sha(entries.get(name)!))).toEqual([sha(photo)]);
  });

  it('backs the bucket\'s objects up, erases the conversation from the bucket, and restores it there', async () => {
    const made = await waBridge(['backup', '--out-dir', path.join(work, 'backups')]);
    expect(made.code, made.stderr).toBe(0);
    backupFile = /^(\S+\.wabk): 1 conversation\(s\)/.exec(made.stdout)![1]!;
    const checked = await waBridge(['backup', 'verify', backupFile]);
    expect(checked.stdout, checked.stderr).toMatch(/^OK backup of .*: 1 conversation\(s\), \d+ event\(s\), \d+ blob\(s\) restore and verify$/m);
    await world!.stop();
    world = undefined;

    const before = await s3.keys();
    const erased = await waBridge(['gdpr', 'erase', '--phone', `+${client}`, '--request', 'SAR-7']);
    expect(erased.stdout, erased.stderr).toContain(`deleted ${chatId}`);
    expect(await s3.keys()).toEqual([]);

    // An erasure is undone only on purpose, with the reason on record.
    const restored = await waBridge(['restore', '--conversation', chatId, '--backup', backupFile, '--undo-deletion', 'erased under the wrong request']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await s3.keys()).toEqual(before);
    expect((await s3.read(photoKey))!.includes(photo.subarray(0, 64))).toBe(false);
    const verify = await waBridge(['verify']);
    expect(verify.stdout, verify.stderr).toMatch(/^OK /m);
    expect(verify.code).toBe(0);
  });
});

/**
 * WA_BRIDGE_MEDIA_STORE=file://…: two bridges with data dirs of their own, one database and one
 * shared media directory (the way instances on several machines mount one share). Media one
 * instance stored is read by the other and by commands run from either data dir.
 */
describe('media in a directory two bridges share', () => {
  let catcher: MailCatcher;
  let shared: string;
  let dirA: string;
  let dirB: string;
  let settings: Record<string, string>;
  const photos = [randomBytes(12_000), randomBytes(14_000)];

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    shared = await mkdtemp(path.join(tmpdir(), 'wab-shared-media-'));
    // A configured directory must exist (an unmounted share is not taken for an empty one).
    await mkdir(path.join(shared, 'media'));
    dirA = await mkdtemp(path.join(tmpdir(), 'wab-instance-a-'));
    dirB = await mkdtemp(path.join(tmpdir(), 'wab-instance-b-'));
    // One database for both: on SQLite the first instance's file, on PostgreSQL its database.
    const database = onPostgres ? await databaseEnvFor(dirA) : { WA_BRIDGE_DATABASE_URL: `sqlite:${path.join(dirA, 'wa-bridge.sqlite')}` };
    settings = {
      ...database,
      WA_BRIDGE_MEDIA_STORE: `file://${path.join(shared, 'media')}`,
      WA_BRIDGE_MASTER_KEY: randomBytes(32).toString('base64'),
      WA_BRIDGE_BLOB_ENCRYPTION: 'on',
      WA_BRIDGE_RETENTION_SCHEDULE: 'off',
    };
  });

  afterAll(async () => {
    await catcher?.stop();
    for (const dir of [shared, dirA, dirB]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps what either instance stores in the shared directory, readable from the other', async () => {
    const relayOne = async (dataDir: string, photo: Buffer, mails: number) => {
      const world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', dataDir, env: settings });
      try {
        const sim = world.simulator;
        expect((await sim.postWebhook(sim.inboundMessage({ from: '447700900712', name: 'Sam Shared', type: 'image', media: sim.addMedia(photo, 'image/png') }))).status).toBe(200);
        await waitFor(() => catcher.mails().length >= mails, 30_000, () => `${catcher.mails().length} of ${mails} mails`);
      } finally {
        await world.stop();
      }
    };
    // The new conversation's notice and the photo; then the second photo in the same conversation.
    await relayOne(dirA, photos[0]!, 2);
    // The second instance is set up from the first one's keys (the checkpoint signing key among them).
    await cp(path.join(dirA, 'keys'), path.join(dirB, 'keys'), { recursive: true });
    await relayOne(dirB, photos[1]!, 3);

    const files = (await readdir(path.join(shared, 'media'), { recursive: true })).filter((name) => /[0-9a-f]{64}$/.test(name));
    for (const photo of photos) {
      const file = path.join(shared, 'media', sha(photo).slice(0, 2), sha(photo));
      expect(files).toContain(path.relative(path.join(shared, 'media'), file));
      const stored = await readFile(file);
      expect(stored.subarray(0, 4).toString()).toBe('WAB2');
    }
    for (const dir of [dirA, dirB]) expect(existsSync(path.join(dir, 'blobs')), dir).toBe(false);

    for (const dir of [dirA, dirB]) {
      const verify = await runWaBridge(dir, ['verify'], settings);
      expect(verify.stdout, verify.stderr).toMatch(/^OK /m);
      expect(verify.code).toBe(0);
    }
    const chatId = catcher.mails()[0]!.raw.toString('utf8').match(/X-WhatsApp-Chat-Id: ([a-z2-7]{26})/)![1]!;
    const bundle = path.join(dirB, 'bundle.zip');
    const made = await runWaBridge(dirB, ['export', '--conversation', chatId, '--out', bundle], settings);
    expect(made.code, made.stderr).toBe(0);
    const entries = await unzip(bundle);
    const media = [...entries.keys()].filter((name) => name.includes('/media/')).map((name) => sha(entries.get(name)!));
    expect(media.sort()).toEqual(photos.map(sha).sort());
  });
});
