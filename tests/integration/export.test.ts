import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startBridgeWorld, waitFor } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { unzip } from '../support/zip.js';

const run = promisify(execFile);

const waBridge = (dataDir: string, ...args: string[]) => runWaBridge(dataDir, args);

/** Writes the entries back as a new zip: how someone would alter a bundle. */
async function rezip(file: string, entries: Map<string, Buffer>): Promise<void> {
  const zip = new ZipFile();
  for (const [name, bytes] of entries) zip.addBuffer(bytes, name);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
}

/**
 * An evidence bundle of a real conversation (text, a photo, a PDF, an edit, a deletion for
 * everyone, a reaction), made by the real `wa-bridge export`, then checked by `verify-bundle`
 * as exported and after each kind of tampering; the PDF transcript is rendered and read back.
 */
describe('evidence export', () => {
  let catcher: MailCatcher;
  let dataDir: string;
  let work: string;
  let chatId = '';
  let bundle = '';
  const photo = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c63f80f04000009fb03fd' + 'e3e2b6e50000000049454e44ae426082', 'hex');
  const letter = Buffer.from('%PDF-1.4\n% the signed lease\n%%EOF\n');
  const texts = ['Good morning, the landlord wrote again.', 'Here is the letter he sent', 'Can we meet on Friday? Ünïcödé ✓ 日本語 Привет 👍'];

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-export-'));
    work = await mkdtemp(path.join(tmpdir(), 'wab-bundle-'));
    const world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', dataDir });
    try {
      const sim = world.simulator;
      const client = { from: '447700900351', name: 'Clara Client' };
      const firstId = 'wamid.HBgMNDQ3NzAwOTAwMzUxFQIAEhggRklSU1QA';
      const first = sim.inboundMessage({ ...client, id: firstId, type: 'text', body: texts[0]! });
      const posts = [
        first,
        sim.inboundMessage({ ...client, type: 'image', media: sim.addMedia(photo, 'image/png'), caption: texts[1]! }),
        sim.inboundMessage({ ...client, type: 'document', media: sim.addMedia(letter, 'application/pdf'), filename: 'Lease.pdf' }),
        sim.inboundMessage({ ...client, type: 'text', body: texts[2]! }),
        sim.inboundMessage({ ...client, type: 'edit', originalMessageId: firstId, body: 'Good morning, the landlord wrote again today.' }),
        sim.inboundMessage({ ...client, type: 'reaction', messageId: firstId, emoji: '👍' }),
        sim.inboundMessage({ ...client, type: 'revoke', originalMessageId: firstId }),
      ];
      for (const envelope of posts) expect((await sim.postWebhook(envelope)).status).toBe(200);
      await waitFor(() => catcher.mails().length >= 8, 20_000, () => `${catcher.mails().length} mails relayed`);
      chatId = catcher.mails()[0]!.raw.toString('utf8').match(/X-WhatsApp-Chat-Id: ([a-z2-7]{26})/)![1]!;
    } finally {
      await world.stop();
    }
    bundle = path.join(work, 'bundle.zip');
    const made = await waBridge(dataDir, 'export', '--conversation', chatId, '--out', bundle, '--timezone', 'Europe/London', '--by', 'Compliance Officer');
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/bundle\.zip: 7 event\(s\), 8 mail\(s\), \d+ file\(s\); SHA-256 [0-9a-f]{64}/);
    // The export is in the audit trail: what, which file, its hash, and who asked for it.
    const audit = await waBridge(dataDir, 'audit', '--action', 'export', '--format', 'json');
    const entries = audit.stdout.trim().split('\n').map((line) => JSON.parse(line) as { target: string; details: { sha256: string; by: string } });
    expect(entries).toEqual([expect.objectContaining({ target: `conversation:${chatId}`, details: expect.objectContaining({ sha256: /SHA-256 ([0-9a-f]{64})/.exec(made.stdout)![1], by: 'Compliance Officer' }) })]);
  });

  afterAll(async () => {
    await catcher?.stop();
    for (const dir of [dataDir, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds every mail exactly as relayed, the media, the events and a signed manifest of them all', async () => {
    const entries = await unzip(bundle);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as { files: Array<{ path: string; sha256: string; size: number }>; exportedBy: string; conversations: Array<{ events: number; chainHead: string }>; checkpoint: unknown };
    expect(manifest.exportedBy).toBe('Compliance Officer');
    expect(manifest.conversations).toEqual([expect.objectContaining({ events: 7 })]);
    for (const file of manifest.files) {
      const bytes = entries.get(file.path)!;
      expect(createHash('sha256').update(bytes).digest('hex'), file.path).toBe(file.sha256);
    }
    // Every .eml is byte for byte one the catcher received.
    const received = new Set(catcher.mails().map((mail) => createHash('sha256').update(mail.raw).digest('hex')));
    const emls = [...entries.keys()].filter((name) => name.endsWith('.eml'));
    expect(emls).toHaveLength(8);
    for (const name of emls) expect(received.has(createHash('sha256').update(entries.get(name)!).digest('hex')), name).toBe(true);
    const media = [...entries.keys()].filter((name) => name.includes('/media/'));
    expect(media.map((name) => entries.get(name)!.toString('hex')).sort()).toEqual([photo.toString('hex'), letter.toString('hex')].sort());
    expect(entries.get(`conversations/${chatId}/mail.mbox`)!.toString('latin1').match(/^From MAILER-DAEMON /gm)).toHaveLength(8);
    expect(entries.get(`conversations/${chatId}/events.ndjson`)!.toString('utf8').trim().split('\n')).toHaveLength(7);
  });

  it('shows every message in the HTML and the PDF transcript, with edits and the deletion marked', async () => {
    const entries = await unzip(bundle);
    const html = entries.get('transcript.html')!.toString('utf8');
    for (const text of texts) expect(html).toContain(text.replace('&', '&amp;'));
    expect(html).toContain('Edited once later');
    expect(html).toContain('Deleted for everyone later; kept here as received');
    expect(html).toMatch(/GMT[+-]\d{2}:\d{2}/);

    const pdf = path.join(work, 'transcript.pdf');
    await writeFile(pdf, entries.get('transcript.pdf')!);
    const { stdout: text } = await run('pdftotext', ['-layout', pdf, '-']);
    for (const line of texts) expect(text.replace(/\s+/g, ' ')).toContain(line);
    expect(text).toContain('Edited once later');
    await run('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', pdf, path.join(work, 'page')]);
    expect((await stat(path.join(work, 'page-1.png'))).size).toBeGreaterThan(5_000);
  });

  it('verifies the bundle as exported, and names a changed, a removed and an added file', async () => {
    const ok = await waBridge(dataDir, 'verify-bundle', bundle);
    expect(ok.stdout, ok.stdout).toMatch(/^OK \d+ file\(s\) exactly as exported/m);
    expect(ok.code).toBe(0);

    const entries = await unzip(bundle);
    const photoPath = [...entries.keys()].find((name) => name.endsWith('.png'))!;
    const changed = new Map(entries);
    const bytes = Buffer.from(entries.get(photoPath)!);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    changed.set(photoPath, bytes);
    await rezip(path.join(work, 'changed.zip'), changed);
    const removed = new Map(entries);
    removed.delete(`conversations/${chatId}/mail.mbox`);
    await rezip(path.join(work, 'removed.zip'), removed);
    const added = new Map(entries);
    added.set('notes.txt', Buffer.from('added later'));
    await rezip(path.join(work, 'added.zip'), added);
    const forged = new Map(entries);
    forged.set('manifest.json', Buffer.from(entries.get('manifest.json')!.toString('utf8').replace('Compliance Officer', 'Someone Else')));
    await rezip(path.join(work, 'forged.zip'), forged);

    const results = await Promise.all(['changed', 'removed', 'added', 'forged'].map((name) => waBridge(dataDir, 'verify-bundle', path.join(work, `${name}.zip`))));
    for (const result of results) expect(result.code, result.stdout).toBe(1);
    expect(results[0]!.stdout).toContain(`FAIL altered: ${photoPath}`);
    expect(results[1]!.stdout).toContain(`FAIL missing: conversations/${chatId}/mail.mbox`);
    expect(results[2]!.stdout).toContain('FAIL added: notes.txt is not in the manifest');
    expect(results[3]!.stdout).toContain('FAIL altered: manifest.json does not match its signature');
  });

  it('catches an event rewritten inside the bundle even with its hash updated in a re-signed manifest', async () => {
    const entries = await unzip(bundle);
    const eventsPath = `conversations/${chatId}/events.ndjson`;
    const rewritten = entries.get(eventsPath)!.toString('utf8').replace('Can we meet on Friday?', 'We never met on Friday.');
    // Without the key the signature cannot be redone, so verify-bundle also reports the manifest;
    // the chain check names the event on its own.
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as { files: Array<{ path: string; sha256: string; size: number }> };
    const listed = manifest.files.find((file) => file.path === eventsPath)!;
    listed.sha256 = createHash('sha256').update(rewritten).digest('hex');
    listed.size = Buffer.byteLength(rewritten);
    const altered = new Map(entries);
    altered.set(eventsPath, Buffer.from(rewritten));
    altered.set('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    await rezip(path.join(work, 'rewritten.zip'), altered);
    const result = await waBridge(dataDir, 'verify-bundle', path.join(work, 'rewritten.zip'));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL chain: conversation [a-z2-7]{26} event 4 \(wamid\.[^)]+\) no longer hashes to its chain link/);
  });

  it('encrypts a bundle for handing over with a passphrase, which verify-bundle and decrypt open', async () => {
    const passphrase = path.join(work, 'passphrase.txt');
    await writeFile(passphrase, 'correct horse battery staple\n');
    const wrong = path.join(work, 'wrong.txt');
    await writeFile(wrong, 'incorrect horse battery staple\n');
    const sealed = path.join(work, 'sealed.wabk');
    const made = await waBridge(dataDir, 'export', '--conversation', chatId, '--out', sealed, '--passphrase-file', passphrase);
    expect(made.stdout).toContain('encrypted with the passphrase');
    const bytes = await readFile(sealed);
    expect(bytes.subarray(0, 6).toString()).toBe('WABK1\n');
    expect(bytes.includes(Buffer.from(texts[0]!))).toBe(false);

    const without = await waBridge(dataDir, 'verify-bundle', sealed);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('is encrypted: give its --passphrase-file');
    const mistaken = await waBridge(dataDir, 'verify-bundle', sealed, '--passphrase-file', wrong);
    expect(mistaken.code).toBe(2);
    expect(mistaken.stderr).toContain('the passphrase is wrong');
    const ok = await waBridge(dataDir, 'verify-bundle', sealed, '--passphrase-file', passphrase);
    expect(ok.stdout).toMatch(/^OK \d+ file\(s\) exactly as exported/m);

    const opened = path.join(work, 'opened.zip');
    expect((await waBridge(dataDir, 'decrypt', sealed, '--passphrase-file', passphrase, '--out', opened)).code).toBe(0);
    expect((await waBridge(dataDir, 'verify-bundle', opened)).code).toBe(0);
  });

  it('refuses what is not a bundle, and a selection that names nothing', async () => {
    const junk = path.join(work, 'junk.zip');
    await writeFile(junk, 'not a zip at all');
    const notZip = await waBridge(dataDir, 'verify-bundle', junk);
    expect(notZip.code).toBe(1);
    expect(notZip.stdout).toContain('FAIL not a readable zip');
    const unknown = await waBridge(dataDir, 'export', '--conversation', 'aaaaaaaaaaaaaaaaaaaaaaaaaa', '--out', path.join(work, 'none.zip'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no conversation has chat id aaaaaaaaaaaaaaaaaaaaaaaaaa');
    await expect(readFile(path.join(work, 'none.zip'))).rejects.toThrow();
    await expect(readFile(path.join(work, 'none.zip.partial'))).rejects.toThrow();
  });
});
