import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import pg from 'pg';
import { databaseEnvFor, onPostgres, openRawStore, postgresServerUrl } from '../support/test-database.js';


const run = promisify(execFile);

// Media and mail sealed at rest too, so every path here reads and writes sealed blobs.
const settings = { WA_BRIDGE_RETENTION_SCHEDULE: 'off', WA_BRIDGE_BLOB_ENCRYPTION: 'on' };

const waBridge = (dataDir: string, args: string[], extraEnv: Record<string, string> = {}) => runWaBridge(dataDir, args, { ...settings, ...extraEnv });

/**
 * Backups taken by the real command while a real bridge takes messages, checked by restoring
 * into a scratch store, and one conversation restored into the live store after it was erased.
 */
describe('backup and restore', () => {
  let catcher: MailCatcher;
  let dataDir: string;
  let backupDir: string;
  let backupFile = '';
  let world: BridgeWorld | undefined;
  const ann = '447700900601';
  const photo = randomBytes(20_000);
  const photoSha = createHash('sha256').update(photo).digest('hex');
  const bob = '447700900602';
  const chatOf = async (phone: string) => {
    const db = await openRawStore(dataDir, { readonly: true });
    const row = await db.get<{ chat_token: string }>('SELECT chat_token FROM conversations WHERE client_wa_id = ?', phone);
    await db.close();
    return row?.chat_token;
  };
  const eventsOf = async (phone: string) => {
    const db = await openRawStore(dataDir, { readonly: true });
    const row = (await db.get<{ n: number }>('SELECT count(*) AS n FROM events WHERE conversation_id IN (SELECT id FROM conversations WHERE client_wa_id = ?)', phone))!;
    await db.close();
    return row.n;
  };

  const documentStates = async (dir: string) => {
    const db = await openRawStore(dir, { readonly: true });
    try {
      return (await db.all<{ text_state: string }>('SELECT text_state FROM attachments WHERE text_state IS NOT NULL')).map((row) => row.text_state);
    } finally {
      await db.close();
    }
  };
  const searchHits = async (dir: string, word: string) => {
    const db = await openRawStore(dir, { readonly: true });
    try {
      const engine = onPostgres ? "document @@ to_tsquery('simple', ?)" : 'message_search MATCH ?';
      return Number((await db.get<{ n: number | string }>(`SELECT count(*) AS n FROM message_search WHERE ${engine}`, word))!.n);
    } finally {
      await db.close();
    }
  };

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-backup-data-'));
    backupDir = await mkdtemp(path.join(tmpdir(), 'wab-backups-'));
    world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', dataDir, env: settings });
    const sim = world.simulator;
    for (let i = 0; i < 5; i += 1) {
      expect((await sim.postWebhook(sim.inboundMessage({ from: ann, name: 'Ann', type: 'text', body: `Ann ${i}` }))).status).toBe(200);
    }
    expect((await sim.postWebhook(sim.inboundMessage({ from: ann, name: 'Ann', type: 'image', media: sim.addMedia(photo, 'image/jpeg') }))).status).toBe(200);
    // A document, whose text the bridge reads into the search index.
    expect((await sim.postWebhook(sim.inboundMessage({ from: ann, name: 'Ann', type: 'document', media: sim.addMedia(Buffer.from('Inventory: one walnut wardrobe'), 'text/plain'), filename: 'inventory.txt' }))).status).toBe(200);
    expect((await sim.postWebhook(sim.inboundMessage({ from: bob, name: 'Bob', type: 'text', body: 'Bob 0' }))).status).toBe(200);
    await waitFor(() => catcher.mails().length >= 10, 20_000, () => `${catcher.mails().length} mails`);
    await waitFor(async () => (await documentStates(dataDir)).join() === 'indexed', 20_000, async () => `document ${(await documentStates(dataDir)).join()}`);
  });

  afterAll(async () => {
    await world?.stop();
    await catcher?.stop();
    for (const dir of [dataDir, backupDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps media and mail sealed on disk, and names a sealed blob whose bytes were changed', async () => {
    const file = path.join(dataDir, 'blobs', photoSha.slice(0, 2), photoSha);
    const stored = await readFile(file);
    expect(stored.subarray(0, 4).toString()).toBe('WAB2');
    expect(stored.includes(photo.subarray(0, 64))).toBe(false);
    const files = (await readdir(path.join(dataDir, 'blobs'), { recursive: true })).filter((name) => /[0-9a-f]{64}$/.test(name));
    for (const name of files) expect((await readFile(path.join(dataDir, 'blobs', name))).subarray(0, 4).toString(), name).toBe('WAB2');
    // Relayed mails are kept in their blobs' rows (or as files, above, when large): sealed too.
    const raw = await openRawStore(dataDir, { readonly: true });
    try {
      const kept = await raw.all<{ sha256: string; content: Buffer }>('SELECT b.sha256, b.content FROM blobs b JOIN mail_relays r ON r.raw_sha256 = b.sha256 WHERE b.content IS NOT NULL');
      expect(kept.length).toBeGreaterThan(0);
      for (const row of kept) {
        expect(row.content.subarray(0, 4).toString(), row.sha256).toBe('WAB2');
        expect(row.content.includes(Buffer.from('X-WhatsApp-Chat-Id')), row.sha256).toBe(false);
      }
    } finally {
      await raw.close();
    }

    const copy = await mkdtemp(path.join(tmpdir(), 'wab-sealed-'));
    try {
      // Copied by another process: closing this process's own descriptors on the live database
      // files would drop the running bridge's SQLite locks (POSIX locks are per process), and the
      // next process to open the database would then reset the shared memory under it.
      await run('cp', ['-a', `${dataDir}/.`, copy]);
      const changed = Buffer.from(stored);
      changed[stored.length - 100] = changed[stored.length - 100]! ^ 1;
      await writeFile(path.join(copy, 'blobs', photoSha.slice(0, 2), photoSha), changed);
      // The copied files with the live store's database (on SQLite its copied file, on PostgreSQL the same database).
      const verify = await waBridge(copy, ['verify'], await databaseEnvFor(dataDir));
      expect(verify.code).toBe(1);
      expect(verify.stdout).toContain(`FAIL [media] blob ${photoSha.slice(0, 12)}… does not decrypt: its bytes were changed or damaged after it was stored`);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('backs up while messages keep arriving, and the backup restores into a scratch store that verifies', async () => {
    const sim = world!.simulator;
    let flowing = true;
    let sent = 0;
    const flow = (async () => {
      while (flowing) {
        expect((await sim.postWebhook(sim.inboundMessage({ from: bob, name: 'Bob', type: 'text', body: `Bob during backup ${sent}` }))).status).toBe(200);
        sent += 1;
      }
    })();
    const made = await waBridge(dataDir, ['backup', '--out-dir', backupDir]);
    flowing = false;
    await flow;
    expect(made.code, made.stderr).toBe(0);
    expect(sent).toBeGreaterThan(0);
    backupFile = /^(\S+\.wabk): 2 conversation\(s\)/.exec(made.stdout)![1]!;
    const verified = await waBridge(dataDir, ['backup', 'verify', backupFile]);
    expect(verified.stdout, verified.stdout).toMatch(/^OK backup of .*: 2 conversation\(s\), \d+ event\(s\), \d+ blob\(s\) restore and verify$/m);
    expect(verified.code).toBe(0);
    await world!.stop();
    world = undefined;
  });

  it('restores a whole backup into a new, empty store, which verifies, searches and relays on where it stopped; refuses a store that is not empty', async () => {
    // A new machine: an empty data dir (and database), with the keys kept apart from the old one.
    const fresh = await mkdtemp(path.join(tmpdir(), 'wab-restored-'));
    let second: BridgeWorld | undefined;
    try {
      await run('cp', ['-a', path.join(dataDir, 'keys'), path.join(fresh, 'keys')]);
      const counts = async (dir: string) => {
        const db = await openRawStore(dir, { readonly: true });
        try {
          const count = async (table: string) => (await db.get<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`))!.n;
          return { conversations: Number(await count('conversations')), events: Number(await count('events')), relays: Number(await count('mail_relays')), audit: Number(await count('audit_entries')), checkpoints: Number(await count('checkpoints')), indexed: Number(await count('message_search')) };
        } finally {
          await db.close();
        }
      };
      const verified = await waBridge(dataDir, ['backup', 'verify', backupFile]);
      const [, events, blobs] = /: 2 conversation\(s\), (\d+) event\(s\), (\d+) blob\(s\) restore and verify$/m.exec(verified.stdout)!;
      // Checked against keys named on the command line, as verify and restore --all take them.
      const otherKey = await waBridge(dataDir, ['backup', 'verify', backupFile, '--trusted-key', 'A'.repeat(43)]);
      expect(otherKey.code).toBe(1);
      expect(otherKey.stdout).toMatch(/^FAIL \[checkpoint\] checkpoint \d+: is signed by a key this archive does not trust/m);

      // A backup that does not verify (here: checkpoints signed by a key not trusted) writes nothing.
      const untrusted = await waBridge(fresh, ['restore', '--all', '--backup', backupFile, '--trusted-key', 'A'.repeat(43)]);
      expect(untrusted.code, untrusted.stdout).toBe(2);
      expect(untrusted.stderr).toMatch(/does not verify: \[checkpoint\] checkpoint \d+: is signed by a key this archive does not trust.*; nothing was restored \(on a new machine, name the key the old one signed with: --trusted-key KEY.*\)\n$/);
      expect(await counts(fresh)).toMatchObject({ conversations: 0, events: 0, audit: 0 });
      expect(await waBridge(fresh, ['restore', '--backup', backupFile])).toMatchObject({ code: 2, stderr: expect.stringContaining('name what to restore: --conversation CHAT_ID, or --all') });

      const restored = await waBridge(fresh, ['restore', '--all', '--backup', backupFile]);
      expect(restored.code, restored.stderr).toBe(0);
      const [, backupCreatedAt, auditEntries] = new RegExp(`^restored the backup of (\\S+): 2 conversation\\(s\\), ${events} event\\(s\\), ${blobs} blob\\(s\\), and (\\d+) audit entr(?:y|ies)$`).exec(restored.stdout.trim()) ?? [];
      expect(backupCreatedAt, restored.stdout).toBeDefined();
      const after = await counts(fresh);
      expect(after).toMatchObject({ conversations: 2, events: Number(events), audit: Number(auditEntries) + 1 });
      // Every event's text is searchable again: the index was rebuilt as the events went in. The
      // document's text, which that rebuilding leaves out, waits to be read again.
      expect(after.indexed).toBe(after.events);
      expect(await searchHits(dataDir, 'wardrobe')).toBe(1);
      expect(await searchHits(fresh, 'wardrobe')).toBe(0);
      expect(await documentStates(fresh)).toEqual(['pending']);
      expect(after.checkpoints).toBeGreaterThan(0);
      // The restored store passes the whole of verify: chains, checkpoints, media and the audit trail with the restore at its end.
      const verify = await waBridge(fresh, ['verify']);
      expect(verify.stdout).toMatch(/^OK /m);
      expect(verify.code).toBe(0);
      const audit = (await waBridge(fresh, ['audit', '--format', 'json'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { action: string; target: string; details: unknown });
      expect(audit).toHaveLength(Number(auditEntries) + 1);
      expect(audit.at(-1)).toMatchObject({ action: 'restore', target: 'store', details: { backupCreatedAt, conversations: 2, events: Number(events), blobs: Number(blobs), auditEntries: Number(auditEntries) } });
      // The photo is back in the blob store, sealed under the new store's data key (verify above
      // opened it and checked its hash).
      const photoFile = path.join(fresh, 'blobs', photoSha.slice(0, 2), photoSha);
      expect((await readFile(photoFile)).subarray(0, 4).toString()).toBe('WAB2');

      // Once is enough: a store with rows in it is refused, and nothing in it changes.
      const beforeAgain = await counts(fresh);
      const again = await waBridge(fresh, ['restore', '--all', '--backup', backupFile]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('the live store is not empty (it has rows in conversations, blobs, events');
      expect(again.stderr).toContain('nothing was restored');
      expect(await counts(fresh)).toEqual(beforeAgain);
      // Said before the backup is opened at all, which for a large one takes a while.
      const unopened = await waBridge(fresh, ['restore', '--all', '--backup', path.join(fresh, 'no-such-backup.wabk')]);
      expect(unopened.code).toBe(2);
      expect(unopened.stderr).toContain('the live store is not empty');

      // A bridge on the restored store goes on where the old one stopped: the next message of a
      // restored chat joins its chain and its mail thread, under new ids that collide with none.
      const relayedBefore = after.relays;
      second = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', dataDir: fresh, env: settings });
      const caught = catcher.mails().length;
      expect((await second.simulator.postWebhook(second.simulator.inboundMessage({ from: ann, name: 'Ann', type: 'text', body: 'Ann after the restore' }))).status).toBe(200);
      // (Mails the old bridge had not sent when the backup was taken may go first, from their restored jobs.)
      const annMail = () => catcher.mails().slice(caught).map((m) => m.raw.toString()).find((raw) => raw.includes('Ann after the restore'));
      await waitFor(() => annMail() !== undefined, 20_000, () => `${catcher.mails().length - caught} new mails, none of them Ann's`);
      // The restored bridge reads the document again.
      await waitFor(async () => (await searchHits(fresh, 'wardrobe')) === 1, 20_000, async () => `document ${(await documentStates(fresh)).join()}`);
      const mail = annMail()!;
      expect(mail).toMatch(/^In-Reply-To: <m\.[a-z2-7]+@/m);
      // With the keys kept, the chat's reply address is the one its earlier mails gave: a reply to
      // any of them still reaches the client.
      const replyTo = (raw: string) => /^Reply-To: (.+)$/m.exec(raw)?.[1];
      const earlier = catcher.mails().slice(0, caught).map((m) => m.raw.toString()).find((raw) => raw.includes('Ann 0'))!;
      expect(replyTo(mail)).toBeDefined();
      expect(replyTo(mail)).toBe(replyTo(earlier));
      await second.stop();
      second = undefined;
      const end = await counts(fresh);
      expect(end).toMatchObject({ conversations: 2, events: after.events + 1 });
      expect(end.relays).toBeGreaterThan(relayedBefore);
      expect((await waBridge(fresh, ['verify'])).stdout).toMatch(/^OK /m);
    } finally {
      await second?.stop();
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('restores a whole backup into the other engine: SQLite to PostgreSQL, PostgreSQL to SQLite', async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'wab-other-engine-'));
    const scratchDatabase = `wab_x_${randomBytes(6).toString('hex')}`;
    const server = new pg.Client({ connectionString: postgresServerUrl });
    await server.connect();
    try {
      await run('cp', ['-a', path.join(dataDir, 'keys'), path.join(other, 'keys')]);
      let target: Record<string, string>;
      if (onPostgres) target = { WA_BRIDGE_DATABASE_URL: `sqlite:${path.join(other, 'wa-bridge.sqlite')}` };
      else {
        await server.query(`CREATE DATABASE ${scratchDatabase}`);
        const url = new URL(postgresServerUrl);
        url.pathname = `/${scratchDatabase}`;
        target = { WA_BRIDGE_DATABASE_URL: url.toString() };
      }
      const verified = await waBridge(dataDir, ['backup', 'verify', backupFile]);
      const [, events] = /: 2 conversation\(s\), (\d+) event\(s\)/.exec(verified.stdout)!;
      const restored = await waBridge(other, ['restore', '--all', '--backup', backupFile], target);
      expect(restored.stdout, restored.stderr).toMatch(new RegExp(`^restored the backup of \\S+: 2 conversation\\(s\\), ${events} event\\(s\\)`));
      const verify = await waBridge(other, ['verify'], target);
      expect(verify.stdout).toMatch(new RegExp(`^OK 2 conversation\\(s\\), ${events} event\\(s\\)`, 'm'));
      expect(verify.code).toBe(0);
    } finally {
      if (!onPostgres) await server.query(`DROP DATABASE IF EXISTS ${scratchDatabase} WITH (FORCE)`);
      await server.end();
      await rm(other, { recursive: true, force: true });
    }
  });

  it('shows how far a backup and a whole restore are on a terminal, and only the closing line otherwise', async () => {
    const fresh = await mkdtemp(path.join(tmpdir(), 'wab-progress-'));
    const outDir = await mkdtemp(path.join(tmpdir(), 'wab-progress-backups-'));
    // The command on a terminal of its own (util-linux's script), as an operator runs it.
    const onTerminal = async (dir: string, args: string[]) => {
      const env = { ...process.env, WA_BRIDGE_DATA_DIR: dir, WA_BRIDGE_LOG_LEVEL: 'silent', ...settings, ...(await databaseEnvFor(dir)) };
      const command = [process.execPath, 'bridge-server/bin/wa-bridge.js', ...args].map((arg) => `'${arg}'`).join(' ');
      return (await run('script', ['-qec', command, '/dev/null'], { cwd: path.resolve(import.meta.dirname, '../..'), env })).stdout;
    };
    try {
      await run('cp', ['-a', path.join(dataDir, 'keys'), path.join(fresh, 'keys')]);
      const backedUp = await onTerminal(dataDir, ['backup', '--out-dir', outDir]);
      expect(backedUp).toMatch(/backing up \[[░█]+\] \d+% taking a consistent copy of the database/);
      expect(backedUp).toMatch(/backing up \[[░█]+\] \d+% packing the database and media/);
      expect(backedUp).toMatch(/backing up \[█+\] 100% encrypting/);
      const file = /(\S+\.wabk): 2 conversation\(s\)/.exec(backedUp)![1]!;
      const restored = await onTerminal(fresh, ['restore', '--all', '--backup', file]);
      const [, rows] = /restoring \[█+\] (\d+)\/\1 rows/.exec(restored) ?? [];
      expect(Number(rows), restored).toBeGreaterThan(0);
      expect(restored).toMatch(/restored the backup of \S+: 2 conversation\(s\)/);
      // In a log or a pipe: the closing line alone.
      const logged = await waBridge(dataDir, ['backup', '--out-dir', outDir]);
      expect(logged.stderr).toBe('');
      expect(logged.stdout).toMatch(/^\S+\.wabk: 2 conversation\(s\), [^\n]*\n$/);
    } finally {
      for (const dir of [fresh, outDir]) await rm(dir, { recursive: true, force: true });
    }
  });

  it("brings an erased conversation back from a backup only when told why the erasure was wrong, leaving the other as it is", async () => {
    const annChat = (await chatOf(ann))!;
    const annEvents = await eventsOf(ann);
    const bobEvents = await eventsOf(bob);
    const erased = await waBridge(dataDir, ['gdpr', 'erase', '--phone', `+${ann}`, '--request', 'TEST-1']);
    expect(erased.stdout).toContain(`deleted ${annChat}`);
    expect(await chatOf(ann)).toBeUndefined();
    // The document's text went with its message's search entry.
    expect(await searchHits(dataDir, 'wardrobe')).toBe(0);
    expect(await documentStates(dataDir)).toEqual([]);

    // The erasure has a certificate: a plain restore would undo it without a word.
    const refused = await waBridge(dataDir, ['restore', '--conversation', annChat, '--backup', backupFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^wa-bridge: conversation ${annChat} was deleted here on \\S+ \\(erasure; certificate sha256:[0-9a-f]{64}\\), and a backup does not bring back what was deleted; nothing was restored`));
    expect(await chatOf(ann)).toBeUndefined();
    expect((await waBridge(dataDir, ['audit', '--action', 'restore', '--format', 'json'])).stdout.trim()).toBe('');

    const restored = await waBridge(dataDir, ['restore', '--conversation', annChat, '--backup', backupFile, '--undo-deletion', 'erased in error: the request named another client']);
    expect(restored.stdout, restored.stderr).toMatch(new RegExp(`^restored ${annChat} from the backup of .*: ${annEvents} event\\(s\\), \\d+ blob\\(s\\)`));
    expect(await eventsOf(ann)).toBe(annEvents);
    expect(await eventsOf(bob)).toBe(bobEvents);
    // The restored document waits for the bridge to read it again (as after a whole restore, above).
    expect(await documentStates(dataDir)).toEqual(['pending']);
    expect(await searchHits(dataDir, 'wardrobe')).toBe(0);
    // The restore is in the audit trail: who, which conversation, from which backup, what came back.
    const [, backupCreatedAt, blobs] = new RegExp(`^restored ${annChat} from the backup of (\\S+): \\d+ event\\(s\\), (\\d+) blob\\(s\\)`).exec(restored.stdout)!;
    const audit = await waBridge(dataDir, ['audit', '--action', 'restore', '--format', 'json']);
    expect(audit.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({
        action: 'restore',
        actor: expect.stringMatching(/^cli:/),
        source: expect.stringMatching(/^cli@/),
        target: `conversation:${annChat}`,
        details: { backupCreatedAt, events: annEvents, blobs: Number(blobs), skippedLinks: '', undoesDeletion: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), undoReason: 'erased in error: the request named another client' },
      }),
    ]);
    const verify = await waBridge(dataDir, ['verify']);
    expect(verify.stdout).toMatch(/^OK /m);
    expect(verify.code).toBe(0);

    const again = await waBridge(dataDir, ['restore', '--conversation', annChat, '--backup', backupFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is in the live store already; nothing was restored');
    // A refused restore restored nothing and left no restore entry.
    expect((await waBridge(dataDir, ['audit', '--action', 'restore', '--format', 'json'])).stdout.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a wrong master key and an altered backup with a clear error', async () => {
    const wrong = await waBridge(dataDir, ['backup', 'verify', backupFile], { WA_BRIDGE_MASTER_KEY: randomBytes(32).toString('base64') });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/was encrypted under master key [0-9a-f]{16}; this store's master key is [0-9a-f]{16}/);

    const altered = path.join(backupDir, 'altered.wabk');
    const { copyFile } = await import('node:fs/promises');
    await copyFile(backupFile, altered);
    const handle = await open(altered, 'r+');
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, 2000);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, 2000);
    await handle.close();
    const result = await waBridge(dataDir, ['backup', 'verify', altered]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('does not decrypt: it was altered or damaged after it was made');
  });

  it('keeps only the newest backups it is told to', async () => {
    for (let i = 0; i < 3; i += 1) expect((await waBridge(dataDir, ['backup', '--out-dir', backupDir, '--keep', '2'])).code).toBe(0);
    const left = (await readdir(backupDir)).filter((name) => name.startsWith('wa-bridge-backup-'));
    expect(left).toHaveLength(2);
  });

  it('rotates the master key by re-wrapping each backup, without re-encrypting it', async () => {
    const before = (await readdir(backupDir)).filter((name) => name.startsWith('wa-bridge-backup-'));
    const sizes = await Promise.all(before.map(async (name) => (await stat(path.join(backupDir, name))).size));
    const rotated = await waBridge(dataDir, ['keys', 'rotate', '--backup-dir', backupDir]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const [, oldId, newId, dataKeys] = /^master key ([0-9a-f]{16}) -> ([0-9a-f]{16}): (\d+) data key\(s\) and 2 backup\(s\) re-wrapped$/m.exec(rotated.stdout)!;
    // Only the header changed: the ciphertext is the same length, byte for byte re-used.
    const after = await Promise.all(before.map(async (name) => (await stat(path.join(backupDir, name))).size));
    expect(after.map((size, i) => size - sizes[i]!)).toEqual([0, 0]);
    const newest = path.join(backupDir, before.sort().at(-1)!);
    const verified = await waBridge(dataDir, ['backup', 'verify', newest]);
    expect(verified.stdout).toMatch(/^OK backup of /m);
    const oldKey = (await readFile(path.join(dataDir, 'keys', `master-${oldId}.key.old`), 'utf8')).trim();
    const withOld = await waBridge(dataDir, ['backup', 'verify', newest], { WA_BRIDGE_MASTER_KEY: oldKey });
    expect(withOld.code).toBe(2);
    expect(withOld.stderr).toContain(`was encrypted under master key ${newId}; this store's master key is ${oldId}`);
    // The stored media's data key was re-wrapped too: the live store still verifies.
    expect(dataKeys).toBe('1');
    const verify = await waBridge(dataDir, ['verify']);
    expect(verify.stdout).toMatch(/^OK /m);
  });
});
