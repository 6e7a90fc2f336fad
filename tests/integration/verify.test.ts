import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startBridgeWorld, waitFor } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { copyTestDatabase, openRawStore, type RawStore } from '../support/test-database.js';


/** Runs the real command against a data dir; resolves with its exit code and output. */
const waBridge = (dataDir: string, ...args: string[]) => runWaBridge(dataDir, args);

/**
 * `wa-bridge verify` on a store a real bridge wrote (chats with text and a photo, relayed over
 * SMTP, a signed checkpoint), then on copies of it tampered with the way someone with access to
 * the files could: each is caught and named; the untouched store passes.
 */
describe('wa-bridge verify', () => {
  let catcher: MailCatcher;
  let original: string;
  const scratch: string[] = [];
  const photo = Buffer.from('89504e470d0a1a0a' + 'ab'.repeat(3000), 'hex');
  const photoSha = createHash('sha256').update(photo).digest('hex');

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    original = await mkdtemp(path.join(tmpdir(), 'wab-verify-'));
    const world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', dataDir: original });
    try {
      const media = world.simulator.addMedia(photo, 'image/png');
      const posts = [
        world.simulator.inboundMessage({ from: '447700900301', name: 'Ann Client', type: 'text', body: 'First question' }),
        world.simulator.inboundMessage({ from: '447700900302', name: 'Bob Client', type: 'text', body: 'Hello' }),
        world.simulator.inboundMessage({ from: '447700900301', name: 'Ann Client', type: 'image', media, caption: 'The letter' }),
        world.simulator.inboundMessage({ from: '447700900301', name: 'Ann Client', type: 'text', body: 'Did you get it?' }),
        world.simulator.inboundMessage({ from: '447700900302', name: 'Bob Client', type: 'text', body: 'Second' }),
      ];
      for (const envelope of posts) expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
      // Two cover mails and five messages: the photo is stored by then.
      await waitFor(() => catcher.mails().length >= 7, 20_000, () => `${catcher.mails().length} mails relayed`);
    } finally {
      await world.stop();
    }
    const signed = await waBridge(original, 'checkpoint');
    expect(signed.code, signed.stderr).toBe(0);
    // Two conversations, and the audit trail (the bridge recorded its retention run at start).
    expect(signed.stdout).toMatch(/^checkpoint \d+: 3 chain head\(s\) signed/);
  });

  afterAll(async () => {
    await catcher?.stop();
    for (const dir of [original, ...scratch]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A copy of the store to tamper with; the original stays as the bridge left it. */
  async function copyOfStore(): Promise<{ dir: string; db: RawStore }> {
    const dir = await mkdtemp(path.join(tmpdir(), 'wab-tamper-'));
    scratch.push(dir);
    await cp(original, dir, { recursive: true });
    await copyTestDatabase(original, dir);
    return { dir, db: await openRawStore(dir) };
  }

  it('passes the store as the bridge wrote it', async () => {
    const result = await waBridge(original, 'verify');
    expect(result.stdout).toMatch(/^OK 2 conversation\(s\), 5 event\(s\), \d+ blob\(s\), \d+ checkpoint\(s\)/m);
    expect(result.code).toBe(0);
    const json = JSON.parse((await waBridge(original, 'verify', '--json')).stdout) as { ok: boolean; problems: unknown[]; blobs: number };
    expect(json).toMatchObject({ ok: true, problems: [] });
    expect(json.blobs).toBeGreaterThanOrEqual(8);
  });

  it('names the message whose stored text was changed by one byte', async () => {
    const { dir, db } = await copyOfStore();
    await db.dropTrigger('events', 'events_append_only_update');
    const row = (await db.get<{ id: number; conversation_id: number; seq: number; wa_message_id: string; event_json: string }>("SELECT id, conversation_id, seq, wa_message_id, event_json FROM events WHERE event_json LIKE '%Did you get it?%'"))!;
    await db.run('UPDATE events SET event_json = ? WHERE id = ?', row.event_json.replace('Did you get it?', 'Did you get it!'), row.id);
    await db.close();
    const result = await waBridge(dir, 'verify');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`FAIL [chain] conversation ${row.conversation_id}`);
    // Named by the chat id too, which export, hold and restore take.
    expect(result.stdout).toMatch(new RegExp(`FAIL \\[chain\\] conversation ${row.conversation_id} \\(chat id [a-z2-7]{26}, `));
    expect(result.stdout).toContain(`event ${row.seq}, message ${row.wa_message_id}: the stored message no longer hashes to its chain link`);
    expect(result.stdout).toMatch(/so the link is as written and the record itself \(content, time, direction or ids\) was changed/);
    expect(result.stdout).toMatch(/^FAILED 1 problem\(s\)/m);

    // Nor is an evidence bundle signed over the changed record.
    const { chat_token: token } = await (async () => {
      const raw = await openRawStore(dir);
      try {
        return (await raw.get<{ chat_token: string }>('SELECT chat_token FROM conversations WHERE id = ?', row.conversation_id))!;
      } finally {
        await raw.close();
      }
    })();
    const out = path.join(dir, 'bundle.zip');
    const exported = await waBridge(dir, 'export', '--conversation', token, '--out', out);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(new RegExp(`^wa-bridge: conversation ${token} no longer matches its hash chain \\(event ${row.seq}: the stored message no longer hashes to its chain link .*\\); nothing was exported\\. \`wa-bridge verify\` shows every problem\n$`));
    expect(existsSync(out)).toBe(false);
    // A date range that leaves the changed message out is refused all the same: the whole chain is checked.
    const later = await waBridge(dir, 'export', '--conversation', token, '--from', '2100-01-01T00:00:00Z', '--out', out);
    expect(later.code).toBe(1);
    expect(later.stderr).toMatch(new RegExp(`^wa-bridge: conversation ${token} no longer matches its hash chain \\(event ${row.seq}: `));
    expect(existsSync(out)).toBe(false);
  });

  it('names the media blob whose file was changed by one byte', async () => {
    const { dir, db } = await copyOfStore();
    await db.close();
    const file = path.join(dir, 'blobs', photoSha.slice(0, 2), photoSha);
    const bytes = await readFile(file);
    bytes[100] = bytes[100]! ^ 1;
    await writeFile(file, bytes);
    const result = await waBridge(dir, 'verify');
    expect(result.code).toBe(1);
    // Media are sealed at rest by default, so a changed byte fails the seal before the hash.
    expect(result.stdout).toContain(`FAIL [media] blob ${photoSha.slice(0, 12)}… does not decrypt: its bytes were changed or damaged after it was stored`);
    expect(result.stdout.match(/^FAIL /gm), result.stdout).toHaveLength(1);
  });

  it('names a missing blob file', async () => {
    const { dir, db } = await copyOfStore();
    await db.close();
    await rm(path.join(dir, 'blobs', photoSha.slice(0, 2), photoSha));
    const result = await waBridge(dir, 'verify');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`blob ${photoSha.slice(0, 12)}… is listed but its file is missing`);
  });

  it('names the gap where a message row was deleted', async () => {
    const { dir, db } = await copyOfStore();
    await db.dropTrigger('events', 'events_append_only_delete');
    const row = (await db.get<{ id: number; conversation_id: number; seq: number }>("SELECT id, conversation_id, seq FROM events WHERE event_json LIKE '%First question%'"))!;
    // Its relayed mail still points at it; with foreign keys off the row goes anyway.
    await db.foreignKeysOff();
    await db.run('DELETE FROM events WHERE id = ?', row.id);
    await db.close();
    const result = await waBridge(dir, 'verify');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`FAIL [chain] conversation ${row.conversation_id}`);
    expect(result.stdout).toContain(`expected event ${row.seq}, found ${row.seq + 1}: events ${row.seq}–${row.seq} are missing`);
  });

  it('catches the last message removed and the chain head rewound to hide it, through the signed checkpoint', async () => {
    const { dir, db } = await copyOfStore();
    await db.dropTrigger('events', 'events_append_only_delete');
    await db.foreignKeysOff();
    const last = (await db.get<{ id: number; conversation_id: number; seq: number }>("SELECT id, conversation_id, seq FROM events WHERE event_json LIKE '%Second%'"))!;
    const before = (await db.get<{ chain_sha256: string }>('SELECT chain_sha256 FROM events WHERE conversation_id = ? AND seq = ?', last.conversation_id, last.seq - 1))!;
    await db.run('DELETE FROM events WHERE id = ?', last.id);
    await db.run('UPDATE conversations SET last_seq = ?, chain_head = ? WHERE id = ?', last.seq - 1, before.chain_sha256, last.conversation_id);
    await db.close();
    const result = await waBridge(dir, 'verify');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`FAIL [checkpoint] conversation ${last.conversation_id}`);
    expect(result.stdout).toContain(`signed event ${last.seq}, which is no longer in the archive`);
  });

  it('refuses a checkpoint changed after signing, and one signed by another key', async () => {
    const { dir, db } = await copyOfStore();
    await db.dropTrigger('checkpoints', 'checkpoints_append_only_update');
    const checkpoint = (await db.get<{ id: number; created_at: number }>('SELECT id, created_at FROM checkpoints ORDER BY id DESC LIMIT 1'))!;
    await db.run('UPDATE checkpoints SET created_at = ? WHERE id = ?', checkpoint.created_at - 86_400_000, checkpoint.id);
    await db.close();
    const changed = await waBridge(dir, 'verify');
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain(`FAIL [checkpoint] checkpoint ${checkpoint.id}: its signature does not verify`);

    const other = await copyOfStore();
    await other.db.close();
    await rm(path.join(other.dir, 'keys', 'checkpoint.pem'));
    const rekeyed = await waBridge(other.dir, 'verify');
    expect(rekeyed.code).toBe(1);
    expect(rekeyed.stdout).toMatch(/FAIL \[checkpoint\] checkpoint \d+: is signed by a key this archive does not trust/);
    expect((await readdir(path.join(other.dir, 'keys'))).sort()).toContain('checkpoint.pem');

    // Checked against the public key kept away from the server, the original store still passes.
    const publicKey = /signed by key (\S+)/.exec((await waBridge(original, 'checkpoint')).stdout)![1]!;
    expect((await waBridge(other.dir, 'verify', '--trusted-key', publicKey)).code).toBe(0);
  });
});
