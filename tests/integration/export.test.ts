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
import { createMatter, endLink, insertLink } from '../../bridge-server/src/store/matters.js';
import { startBridgeWorld, waitFor, waitForIdleOutbox } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { openTestDatabase } from '../support/test-database.js';
import { unzip } from '../support/zip.js';

const run = promisify(execFile);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
  // A whole PNG (3 × 2 pixels, red), so that the PDF can draw it.
  const photo = Buffer.from('89504e470d0a1a0a0000000d49484452000000030000000208020000001216f14d' + '000000104944415478da6338212707410c70160041000619d444ee19' + '0000000049454e44ae426082', 'hex');
  const letter = Buffer.from('%PDF-1.4\n% the signed lease\n%%EOF\n');
  // How the transcripts name the client: the profile name and the number.
  const sender = 'Clara Client (+44 7700 900351)';
  let photoName = '';
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
    // Who sent each entry, the photo shown inline and the document listed, each a link to its file in the bundle.
    expect(html.match(new RegExp(`<div class="head"><b>${escapeRegExp(sender)}</b> · `, 'g'))).toHaveLength(7);
    const photoPath = [...entries.keys()].find((name) => name.startsWith(`conversations/${chatId}/media/`) && name.endsWith('.png'))!;
    const letterPath = [...entries.keys()].find((name) => name.startsWith(`conversations/${chatId}/media/`) && name.endsWith('-Lease.pdf'))!;
    expect(entries.get(photoPath)).toEqual(photo);
    expect(entries.get(letterPath)).toEqual(letter);
    photoName = photoPath.slice(photoPath.lastIndexOf('/') + 1 + 13);
    expect(html).toContain(`<div><img src="${photoPath}" alt="${photoName}"><a href="${photoPath}">${photoName}</a> (image/png, ${photo.length} bytes, SHA-256 ${sha256(photo)})</div>`);
    expect(html).toContain(`<div><a href="${letterPath}">Lease.pdf</a> (application/pdf, ${letter.length} bytes, SHA-256 ${sha256(letter)})</div>`);
    expect(html.match(/<img /g)).toHaveLength(1);

    const pdf = path.join(work, 'transcript.pdf');
    await writeFile(pdf, entries.get('transcript.pdf')!);
    const { stdout: text } = await run('pdftotext', ['-layout', pdf, '-']);
    for (const line of texts) expect(text.replace(/\s+/g, ' ')).toContain(line);
    expect(text).toContain('Edited once later');
    // The sender on every entry, the photo drawn inline and both files listed with their hashes.
    expect(text.match(new RegExp(`^\\s*${escapeRegExp(sender)}`, 'gm'))).toHaveLength(7);
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain(`File: ${photoName} (image/png, ${photo.length} bytes) SHA-256 ${sha256(photo)}`);
    expect(flat).toContain(`File: Lease.pdf (application/pdf, ${letter.length} bytes) SHA-256 ${sha256(letter)}`);
    const { stdout: images } = await run('pdfimages', ['-list', pdf]);
    // One picture, the photo (pdfimages lists page, number, type, width, height, …).
    expect(images.trim().split('\n').slice(2).map((row) => row.trim().split(/\s+/).slice(0, 5))).toEqual([['1', '0', 'image', '3', '2']]);
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
    // A byte changed in the sealed bundle fails the check (exit 1), as a changed plain bundle does.
    const altered = path.join(work, 'altered.wabk');
    const changed = Buffer.from(bytes);
    changed[changed.length - 40] = changed[changed.length - 40]! ^ 1;
    await writeFile(altered, changed);
    const tampered = await waBridge(dataDir, 'verify-bundle', altered, '--passphrase-file', passphrase);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^FAIL .*altered\.wabk does not decrypt: it was altered or damaged after it was made\nFAILED 1 problem\(s\)\n$/);

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
    const missing = await waBridge(dataDir, 'verify-bundle', path.join(work, 'never-made.zip'));
    expect([missing.code, missing.stderr]).toEqual([2, `wa-bridge: ${path.join(work, 'never-made.zip')}: no such bundle file\n`]);
    const unknown = await waBridge(dataDir, 'export', '--conversation', 'aaaaaaaaaaaaaaaaaaaaaaaaaa', '--out', path.join(work, 'none.zip'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no conversation has chat id aaaaaaaaaaaaaaaaaaaaaaaaaa');
    await expect(readFile(path.join(work, 'none.zip'))).rejects.toThrow();
    await expect(readFile(path.join(work, 'none.zip.partial'))).rejects.toThrow();
  });
});

/**
 * The other selections of `wa-bridge export`: a matter (the conversations linked to it, no
 * other), and a date range (the events from `--from` up to, not including, `--to`), alone and
 * together; each bundle says what was selected and verifies.
 */
describe('evidence export of a matter and of a date range', () => {
  let catcher: MailCatcher;
  let dataDir: string;
  let work: string;
  const phones = { ann: '447700900361', ben: '447700900362', cat: '447700900363', dan: '447700900364' };
  const chat: Record<keyof typeof phones, string> = { ann: '', ben: '', cat: '', dan: '' };
  // Each client's messages, at 10:00 UTC on these days of March 2026; Ann and Ben are in matter M-7, Cat is not.
  // Dan's chat was linked to M-8 on the 7th and moved to M-9 on the 10th.
  const days: Record<keyof typeof phones, number[]> = { ann: [2, 5, 9], ben: [3, 6, 12], cat: [6], dan: [4, 8, 11] };
  const at = (day: number) => Date.UTC(2026, 2, day, 10);
  const bodyOf = (name: string, day: number) => `${name} writing on ${day} March`;

  interface Bundle {
    manifest: BundleManifestView;
    entries: Map<string, Buffer>;
    /** Per conversation: each event's time and text, from events.ndjson. */
    events: Map<string, Array<{ timestamp: number; text: string }>>;
  }
  interface BundleManifestView {
    selection: Record<string, string>;
    conversations: Array<{ chatId: string; events: number }>;
  }

  const exportBundle = async (name: string, ...args: string[]): Promise<Bundle & { stdout: string }> => {
    const file = path.join(work, name);
    const made = await waBridge(dataDir, 'export', '--out', file, '--timezone', 'UTC', ...args);
    expect(made.code, made.stderr).toBe(0);
    const verified = await waBridge(dataDir, 'verify-bundle', file);
    expect(verified.stdout, verified.stdout).toMatch(/^OK \d+ file\(s\) exactly as exported/m);
    expect(verified.code).toBe(0);
    const entries = await unzip(file);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as BundleManifestView;
    const events = new Map<string, Array<{ timestamp: number; text: string }>>();
    for (const { chatId } of manifest.conversations) {
      const lines = entries.get(`conversations/${chatId}/events.ndjson`)!.toString('utf8').split('\n').filter(Boolean);
      events.set(
        chatId,
        lines.map((line) => {
          const event = JSON.parse(line) as { timestamp: number; event: unknown };
          return { timestamp: event.timestamp, text: /"([A-Z][a-z]+ writing on \d+ March)"/.exec(JSON.stringify(event.event))![1]! };
        }),
      );
    }
    return { manifest, entries, events, stdout: made.stdout };
  };
  /** The events a bundle should hold for a client: those of its days in [from, to). */
  const expected = (name: keyof typeof phones, from = 0, to = Infinity) =>
    days[name].filter((day) => at(day) >= from && at(day) < to).map((day) => ({ timestamp: at(day), text: bodyOf(name[0]!.toUpperCase() + name.slice(1), day) }));
  /** The mails a bundle should hold for a conversation: its opening cover and one per event exported. */
  const mailsOf = (entries: Map<string, Buffer>, chatId: string) => [...entries.keys()].filter((name) => name.startsWith(`conversations/${chatId}/mail/`)).length;

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-export-sel-'));
    work = await mkdtemp(path.join(tmpdir(), 'wab-bundle-sel-'));
    const world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', dataDir });
    try {
      const sim = world.simulator;
      for (const name of Object.keys(phones) as Array<keyof typeof phones>) {
        const display = name[0]!.toUpperCase() + name.slice(1);
        for (const day of days[name]) {
          const envelope = sim.inboundMessage({ from: phones[name], name: display, type: 'text', body: bodyOf(display, day), timestamp: new Date(at(day)) });
          expect((await sim.postWebhook(envelope)).status).toBe(200);
        }
      }
      // Seven messages and an opening cover mail per conversation.
      await waitFor(() => catcher.mails().length >= 10, 20_000, () => `${catcher.mails().length} mails relayed`);
      await waitForIdleOutbox(world.bridge);
    } finally {
      await world.stop();
    }
    const opened = await openTestDatabase(dataDir);
    try {
      const rows = await opened.db.selectFrom('conversations').select(['id', 'client_wa_id', 'chat_token']).execute();
      for (const name of Object.keys(phones) as Array<keyof typeof phones>) chat[name] = rows.find((row) => row.client_wa_id === phones[name])!.chat_token;
      const matter = (await createMatter(opened.db, { reference: 'M-7', title: 'Boundary dispute', matterType: 'litigation', members: [], createdBy: 'test' }, Date.now()))!;
      for (const name of ['ann', 'ben'] as const) await insertLink(opened.db, rows.find((row) => row.chat_token === chat[name])!.id, matter, 'test', Date.now());
      const dan = rows.find((row) => row.chat_token === chat.dan)!.id;
      const first = (await createMatter(opened.db, { reference: 'M-8', title: 'Lease renewal', matterType: 'property', members: [], createdBy: 'test' }, at(1)))!;
      const second = (await createMatter(opened.db, { reference: 'M-9', title: 'Lease dispute', matterType: 'litigation', members: [], createdBy: 'test' }, at(1)))!;
      await endLink(opened.db, await insertLink(opened.db, dan, first, 'test', at(7)), 'test', at(10));
      await insertLink(opened.db, dan, second, 'test', at(10));
    } finally {
      await opened.close();
    }
  });

  afterAll(async () => {
    await catcher?.stop();
    for (const dir of [dataDir, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exports a matter: every event of the conversations linked to it and nothing of any other', async () => {
    const bundle = await exportBundle('matter.zip', '--matter', 'M-7');
    expect(bundle.stdout).toMatch(/matter\.zip: 6 event\(s\), 8 mail\(s\), \d+ file\(s\); SHA-256 [0-9a-f]{64}/);
    expect(bundle.manifest.selection).toEqual({ matter: 'M-7' });
    expect(bundle.manifest.conversations.map((c) => [c.chatId, c.events]).sort()).toEqual([[chat.ann, 3], [chat.ben, 3]].sort());
    expect(bundle.events.get(chat.ann)).toEqual(expected('ann'));
    expect(bundle.events.get(chat.ben)).toEqual(expected('ben'));
    expect([...bundle.entries.keys()].filter((name) => name.includes(chat.cat))).toEqual([]);
    expect(bundle.entries.get('transcript.html')!.toString('utf8')).not.toContain('Cat writing');
    expect(bundle.entries.get('transcript.html')!.toString('utf8')).toContain('The whole conversation belongs to matter M-7.');
    expect(mailsOf(bundle.entries, chat.ann)).toBe(4);
    expect(mailsOf(bundle.entries, chat.ben)).toBe(4);
    const audit = await waBridge(dataDir, 'audit', '--action', 'export', '--format', 'json');
    const entry = JSON.parse(audit.stdout.trim().split('\n').at(-1)!) as { target: string; details: { conversations: string } };
    expect(entry).toMatchObject({ target: 'matter:M-7', details: { events: 6, from: null, to: null } });
    // The entry names each conversation, so the trail shows who exported conversation X by matter too.
    expect(entry.details.conversations.split(',').sort()).toEqual([chat.ann, chat.ben].sort());
  });

  it("exports a matter's conversations only for the time they belonged to it, and says so", async () => {
    // M-8 had Dan's chat from its first link (so with what he wrote before it) until it moved to M-9.
    const before = await exportBundle('m8.zip', '--matter', 'M-8');
    expect(before.events.get(chat.dan)).toEqual(expected('dan', 0, at(10)));
    expect(mailsOf(before.entries, chat.dan)).toBe(3);
    const beforeHtml = before.entries.get('transcript.html')!.toString('utf8');
    expect(beforeHtml).not.toContain('Dan writing on 11 March');
    expect(beforeHtml).toContain('Events while the conversation belonged to matter M-8: from its start up to 2026-03-10 10:00:00 GMT+00:00. Its other events are not in this bundle.');
    const manifest = before.manifest as BundleManifestView & { conversations: Array<{ linked?: unknown }> };
    expect(manifest.conversations[0]!.linked).toEqual([{ from: null, to: '2026-03-10T10:00:00.000Z' }]);

    // M-9 has it since then: the later message only, without the opening mail.
    const after = await exportBundle('m9.zip', '--matter', 'M-9');
    expect(after.events.get(chat.dan)).toEqual(expected('dan', at(10)));
    expect(mailsOf(after.entries, chat.dan)).toBe(1);
    expect(after.entries.get('transcript.html')!.toString('utf8')).toContain('Events while the conversation belonged to matter M-9: from 2026-03-10 10:00:00 GMT+00:00 on. Its other events are not in this bundle.');
  });

  it('refuses a range that ends before it starts', async () => {
    const out = path.join(work, 'backwards.zip');
    const backwards = await waBridge(dataDir, 'export', '--matter', 'M-7', '--from', '2026-12-01', '--to', '2026-01-01', '--out', out);
    expect([backwards.code, backwards.stderr]).toEqual([2, 'wa-bridge: --from 2026-12-01 is not before --to 2026-01-01: the bundle would hold nothing\n']);
    await expect(readFile(out)).rejects.toThrow();
  });

  it('exports a matter between two dates: only the events from --from up to --to, and says so', async () => {
    const from = Date.UTC(2026, 2, 4);
    const to = Date.UTC(2026, 2, 10);
    const bundle = await exportBundle('matter-range.zip', '--matter', 'M-7', '--from', '2026-03-04', '--to', '2026-03-10');
    // The conversations were opened before --from: their cover mails stay out, as their earlier events do.
    expect(bundle.stdout).toMatch(/matter-range\.zip: 3 event\(s\), 3 mail\(s\)/);
    expect(bundle.manifest.selection).toEqual({ matter: 'M-7', from: '2026-03-04T00:00:00.000Z', to: '2026-03-10T00:00:00.000Z' });
    expect(bundle.events.get(chat.ann)).toEqual(expected('ann', from, to));
    expect(bundle.events.get(chat.ann)).toHaveLength(2);
    expect(bundle.events.get(chat.ben)).toEqual(expected('ben', from, to));
    expect(bundle.events.get(chat.ben)).toHaveLength(1);
    expect(mailsOf(bundle.entries, chat.ann)).toBe(2);
    expect(mailsOf(bundle.entries, chat.ben)).toBe(1);
    const html = bundle.entries.get('transcript.html')!.toString('utf8');
    expect(html).toContain('matter M-7 from 2026-03-04T00:00:00.000Z until 2026-03-10T00:00:00.000Z');
    for (const text of ['Ann writing on 2 March', 'Ben writing on 3 March', 'Ben writing on 12 March', 'Cat writing']) expect(html).not.toContain(text);
  });

  it('exports conversations from a time on, and up to a time, the start counted in and the end not', async () => {
    const since = await exportBundle('since.zip', '--conversation', chat.cat, chat.ann, '--from', '2026-03-06T10:00:00Z');
    expect(since.manifest.selection).toEqual({ conversation: `${chat.cat},${chat.ann}`, from: '2026-03-06T10:00:00.000Z' });
    expect(since.manifest.conversations.map((c) => [c.chatId, c.events])).toEqual([[chat.cat, 1], [chat.ann, 1]]);
    expect(since.events.get(chat.cat)).toEqual(expected('cat'));
    expect(since.events.get(chat.ann)).toEqual(expected('ann', at(6)));

    const until = await exportBundle('until.zip', '--conversation', chat.ben, '--to', '2026-03-06T10:00:00Z');
    expect(until.manifest.selection).toEqual({ conversation: chat.ben, to: '2026-03-06T10:00:00.000Z' });
    expect(until.events.get(chat.ben)).toEqual([{ timestamp: at(3), text: 'Ben writing on 3 March' }]);
    expect(until.stdout).toMatch(/until\.zip: 1 event\(s\), 2 mail\(s\)/);
  });

  it('says which events came from an imported chat export, and which file, in the transcript and the manifest', async () => {
    const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/exports/android-24h-uk-dash.txt');
    const imported = await waBridge(dataDir, 'import', fixture, '--client-phone', '+447700900399', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London');
    expect(imported.code, imported.stderr).toBe(0);
    const opened = await openTestDatabase(dataDir);
    let chatId: string;
    try {
      chatId = (await opened.db.selectFrom('conversations').select('chat_token').where('client_wa_id', '=', '447700900399').executeTakeFirstOrThrow()).chat_token;
    } finally {
      await opened.close();
    }
    const file = path.join(work, 'imported.zip');
    const made = await waBridge(dataDir, 'export', '--out', file, '--conversation', chatId, '--timezone', 'Europe/London');
    expect(made.code, made.stderr).toBe(0);
    const entries = await unzip(file);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as { conversations: Array<{ imports?: Array<{ file: string; sha256: string; timeZone: string }> }> };
    const source = sha256(await readFile(fixture));
    expect(manifest.conversations[0]!.imports).toMatchObject([{ file: 'android-24h-uk-dash.txt', sha256: source, timeZone: 'Europe/London' }]);
    const html = entries.get('transcript.html')!.toString('utf8');
    expect(html).toContain(`Imported from the chat export &quot;android-24h-uk-dash.txt&quot; (SHA-256 ${source})`);
    expect(html).toContain('Quick question about the lease');
    expect(html).toContain('These messages were not received live: each is marked &quot;Imported from a chat export (above); time as the export gave it&quot;, and its time is the one the export wrote.');
    // Every imported message carries the mark next to it, not just the section.
    const marked = html.split('<li ').filter((item) => item.includes('<div class="marks">Imported from a chat export (above); time as the export gave it</div>'));
    expect(marked.length).toBe(html.split('<li ').length - 1);
  });

  it("writes the transcript in WA_BRIDGE_TIMEZONE when --timezone is left out, and reads a date-only --from there", async () => {
    const file = path.join(work, 'zoned.zip');
    const made = await runWaBridge(dataDir, ['export', '--out', file, '--conversation', chat.ann, '--from', '2026-03-06'], { WA_BRIDGE_TIMEZONE: 'America/New_York' });
    expect(made.code, made.stderr).toBe(0);
    const entries = await unzip(file);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as { selection: Record<string, string>; timeZone: string };
    // Midnight in New York, five hours after midnight UTC in March (before the clocks change there on the 8th).
    expect(manifest.selection.from).toBe('2026-03-06T05:00:00.000Z');
    expect(manifest.timeZone).toBe('America/New_York');
    const html = [...entries].find(([name]) => name.endsWith('.html'))![1].toString('utf8');
    expect(html).toContain('GMT-05:00');
    expect(html).not.toContain('GMT+00:00');

    const refused = await runWaBridge(dataDir, ['export', '--out', path.join(work, 'nowhere.zip'), '--conversation', chat.ann, '--timezone', 'Mars/Olympus'], { WA_BRIDGE_TIMEZONE: 'America/New_York' });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--timezone: "Mars/Olympus" is not a time zone name such as Europe/London');
  });
});
