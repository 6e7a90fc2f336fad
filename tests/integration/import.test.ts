import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBlobStore } from '../../bridge-server/src/archive/keyring.js';
import { verifyArchive } from '../../bridge-server/src/archive/verify.js';
import { loadConfig } from '../../bridge-server/src/config/load.js';
import type { Job } from '../../bridge-server/src/core/records.js';
import { relayEvent } from '../../bridge-server/src/flows/relay.js';
import { DeterministicComposer } from '../../bridge-server/src/mail/compose/composer.js';
import { SqlOutbox } from '../../bridge-server/src/store/outbox.js';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { writeZip } from '../../bridge-server/src/channels/chat-export/zip-builder.js';
import { openExportReader } from '../../bridge-server/src/channels/chat-export/read.js';
import { hashFile, openExportSource } from '../../bridge-server/src/channels/chat-export/source.js';
import { WallClock } from '../../bridge-server/src/core/wall-time.js';
import { importExport, scanExport } from '../../bridge-server/src/flows/import.js';
import { prepareHere, type PrepareContext } from '../../bridge-server/src/flows/import-prepare.js';
import { inboundMessage } from '../../bridge-server/src/channels/simulator/builders.js';
import { main } from '../../bridge-server/src/cli/index.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { listEvents } from '../../bridge-server/src/store/events.js';
import { listImports, SqlImportStore } from '../../bridge-server/src/store/imports.js';
import { createMatter, listLinks } from '../../bridge-server/src/store/matters.js';
import { searchMessages } from '../../bridge-server/src/store/search.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { databaseEnvFor, listTables, openTestDatabase } from '../support/test-database.js';

const corpus = fileURLToPath(new URL('../fixtures/exports/', import.meta.url));
const photo = Buffer.from('\xff\xd8\xff\xe0 photo of the signed contract', 'latin1');
const lease = Buffer.from('%PDF-1.4 lease agreement');
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let dir: string;
let exports: string;

/** Runs `wa-bridge …` in this process, as the command line does, and collects what it prints. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await main(['node', 'wa-bridge', ...args]);
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const withDb = async <T>(fn: (opened: OpenedDatabase) => Promise<T>): Promise<T> => {
  const opened = await openTestDatabase(dir);
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
};

/** Row count of every table, FTS shadow tables included: "nothing stored" means none moved. */
const tableCounts = () =>
  withDb(async (opened) => {
    const { db } = opened;
    const counts: Record<string, number> = {};
    for (const name of await listTables(opened)) counts[name] = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(name)}`.execute(db)).rows[0]!.n);
    return counts;
  });

async function iosZip(): Promise<string> {
  const file = path.join(exports, 'WhatsApp Chat - Jane Smith.zip');
  await writeZip(file, [
    { name: '_chat.txt', bytes: await readFile(path.join(corpus, 'ios-24h-uk-bracketed.txt')) },
    { name: '00000012-PHOTO-2024-03-14-09-13-10.jpg', bytes: photo, compress: false },
    { name: '00000015-Lease agreement.pdf', bytes: lease },
  ]);
  return file;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wab-import-'));
  exports = await mkdtemp(path.join(tmpdir(), 'wab-import-files-'));
  process.env.WA_BRIDGE_DATA_DIR = dir;
  process.env.WA_BRIDGE_TENANT = 'default';
  Object.assign(process.env, await databaseEnvFor(dir));
});
afterEach(async () => {
  delete process.env.WA_BRIDGE_DATA_DIR;
  delete process.env.WA_BRIDGE_DATABASE_URL;
  await rm(dir, { recursive: true, force: true });
  await rm(exports, { recursive: true, force: true });
});

describe('wa-bridge import', () => {
  it('stores an iOS zip as chained events with original times, directions and media, and records the import', async () => {
    const zip = await iosZip();
    const run = await cli('import', zip, '--client-phone', '+44 7700 900123', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London', '--by', 'clerk@firm.example');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^import 1: 7 messages read, 7 added, 0 already archived; media 2 linked, 0 not in the export; conversation 1 /);

    await withDb(async ({ db }) => {
      const events = await listEvents(db, 1);
      expect(events.map((e) => [e.channel, e.direction, e.event.kind === 'message' ? e.event.content.type : '', new Date(e.timestamp).toISOString()])).toEqual([
        ['chat-export', 'inbound', 'system', '2024-03-14T09:12:01.000Z'],
        ['chat-export', 'inbound', 'text', '2024-03-14T09:12:45.000Z'],
        ['chat-export', 'inbound', 'image', '2024-03-14T09:13:10.000Z'],
        ['chat-export', 'outbound', 'text', '2024-03-14T09:15:00.000Z'],
        ['chat-export', 'inbound', 'document', '2024-03-15T17:40:22.000Z'],
        ['chat-export', 'inbound', 'text', '2024-03-15T17:41:02.000Z'],
        ['chat-export', 'outbound', 'text', '2024-03-15T17:42:30.000Z'],
      ]);
      const zipSha = sha(await readFile(zip));
      expect(events[1]!.waMessageId).toBe(`export.${zipSha.slice(0, 32)}.2`);
      expect(events[1]!.event.raw).toMatchObject({ source: 'chat-export', sourceSha256: zipSha, line: 2, date: '2024-03-14T09:12:45', timeZone: 'Europe/London', author: 'Jane Smith' });

      const attachments = await db.selectFrom('attachments').selectAll().orderBy('id').execute();
      expect(attachments.map((a) => [a.file_name, a.sha256, a.size, a.mime_type])).toEqual([
        ['00000012-PHOTO-2024-03-14-09-13-10.jpg', sha(photo), photo.length, 'image/jpeg'],
        ['00000015-Lease agreement.pdf', sha(lease), lease.length, 'application/pdf'],
      ]);
      const blobs = (await openBlobStore({ dataDir: dir, blobEncryption: true }, db)).store;
      expect(await blobs.get(sha(photo))).toEqual(photo);
      // Sealed at rest: the photo's bytes are not in its file.
      expect((await readFile(path.join(dir, 'blobs', sha(photo).slice(0, 2), sha(photo)))).includes(photo.subarray(0, 64))).toBe(false);

      const [record] = await listImports(db);
      expect(record).toMatchObject({
        conversationId: 1,
        sourceSha256: zipSha,
        sourceName: 'WhatsApp Chat - Jane Smith.zip',
        sourceSize: (await stat(zip)).size,
        sourceKind: 'zip',
        timeZone: 'Europe/London',
        dateOrder: 'dmy',
        firmAuthors: ['Tom Baker'],
        importedBy: 'clerk@firm.example',
        mirrored: false,
        state: 'complete',
        counts: { messages: 7, added: 7, duplicates: 0, mediaLinked: 2, mediaMissing: 0 },
      });
      const conversation = await db.selectFrom('conversations').selectAll().executeTakeFirstOrThrow();
      expect([conversation.channel, conversation.client_wa_id, conversation.client_name]).toEqual(['chat-export', '447700900123', 'Jane Smith']);
      // Archive only: no mail queued for old messages unless asked.
      expect(await db.selectFrom('outbox_jobs').selectAll().execute()).toEqual([]);
      const report = await verifyArchive({ db, blobs, trustedKeys: [] });
      expect(report.problems).toEqual([]);
      expect(report.events).toBe(7);
    });
  });

  it('seals imported media like live media when blob encryption is on, and a refused file creates no key', async () => {
    process.env.WA_BRIDGE_BLOB_ENCRYPTION = 'on';
    try {
      const junk = path.join(exports, 'junk.txt');
      await writeFile(junk, Buffer.alloc(4096, 0));
      const before = await tableCounts();
      expect(before.data_keys).toBe(0);
      expect((await cli('import', junk, '--client-phone', '+447700900123')).code).toBe(2);
      expect(await tableCounts()).toEqual(before);

      expect((await cli('import', await iosZip(), '--client-phone', '+447700900123', '--firm-author', 'Tom Baker')).code).toBe(0);
      const onDisk = await readFile(path.join(dir, 'blobs', sha(photo).slice(0, 2), sha(photo)));
      expect(onDisk.includes(photo)).toBe(false);
      await withDb(async ({ db }) => expect(await (await openBlobStore(loadConfig(), db)).store.get(sha(photo))).toEqual(photo));
    } finally {
      delete process.env.WA_BRIDGE_BLOB_ENCRYPTION;
    }
  });

  it('builds a large export\'s events on a thread with the same archive as one thread, media and re-import included', async () => {
    // Several groups of 2,000 (a transaction each); below the size where the command picks the
    // thread by itself, so it is asked for.
    const lines: string[] = [];
    for (let i = 0; i < 6_500; i += 1) {
      const stamp = `${String(1 + (i % 28)).padStart(2, '0')}/03/2024, ${String(8 + (i % 10)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
      if (i === 3_250) lines.push(`${stamp} - Jane Smith: 00000012-PHOTO-2024-03-14-09-13-10.jpg (file attached)`);
      else if (i % 1000 === 0) lines.push(`${stamp} - Tom Baker: IMG-2024031${i % 10}-WA0001.jpg (file attached)`);
      else lines.push(`${stamp} - ${i % 4 === 0 ? 'Tom Baker' : 'Jane Smith'}: message ${i}${i % 7 === 0 ? '\nand a second line: with a colon' : ''}`);
    }
    const zip = path.join(exports, 'WhatsApp Chat - Jane Smith.zip');
    await writeZip(zip, [
      { name: '_chat.txt', bytes: Buffer.from(`${lines.join('\n')}\n`) },
      { name: '00000012-PHOTO-2024-03-14-09-13-10.jpg', bytes: photo, compress: false },
    ]);
    const args = ['import', zip, '--client-phone', '+447700900123', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London'];
    const stored = () =>
      withDb(async ({ db }) => {
        const events = await db.selectFrom('events').select(['seq', 'wa_message_id', 'direction', 'content_type', 'wa_timestamp', 'event_json']).orderBy('seq').execute();
        const attachments = await db.selectFrom('attachments').select(['event_id', 'file_name', 'sha256']).orderBy('id').execute();
        const blobs = (await openBlobStore(loadConfig(), db)).store;
        const report = await verifyArchive({ db, blobs, trustedKeys: [] });
        return { events, attachments, problems: report.problems, searchable: (await searchMessages(db, { match: '"colon"*', scope: { kind: 'all' }, limit: 5000 })).length };
      });

    const threaded = await cli(...args, '--threads', '2');
    expect(threaded).toMatchObject({ code: 0, stderr: '' });
    expect(threaded.stdout).toMatch(/^import 1: 6500 messages read, 6500 added, 0 already archived; media 1 linked, 7 not in the export;/);
    const onThread = await stored();
    const again = await cli(...args, '--threads', '2');
    expect(again.stdout).toMatch(/^import 2: 6500 messages read, 0 added, 6500 already archived;/);

    const dirOnThread = dir;
    dir = await mkdtemp(path.join(tmpdir(), 'wab-import-one-'));
    try {
      process.env.WA_BRIDGE_DATA_DIR = dir;
      Object.assign(process.env, await databaseEnvFor(dir));
      const one = await cli(...args, '--threads', '1');
      expect(one).toMatchObject({ code: 0, stderr: '' });
      const inOne = await stored();
      expect(inOne.events).toHaveLength(6_500);
      expect(onThread.events).toEqual(inOne.events);
      expect(onThread.attachments).toEqual(inOne.attachments);
      expect(onThread.attachments.map((a) => a.file_name)).toEqual(['00000012-PHOTO-2024-03-14-09-13-10.jpg']);
      expect([onThread.problems, inOne.problems]).toEqual([[], []]);
      expect(onThread.searchable).toBeGreaterThan(0);
      expect(onThread.searchable).toBe(inOne.searchable);
    } finally {
      await rm(dir, { recursive: true, force: true });
      dir = dirOnThread;
    }
    expect(await cli('import', zip, '--client-phone', '+447700900123', '--threads', '3')).toEqual({ code: 2, stdout: '', stderr: 'wa-bridge: --threads: expected 1 or 2, got "3"\n' });
  });

  it('chains the groups after a live message that arrived between them over that message', async () => {
    const live = await withDb(async ({ db }) => {
      const store = new SqlStore(db, 'default');
      const batch = normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(inboundMessage({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'live before' })))));
      return (await ingestBatch({ store, clock: { now: Date.now }, tenant: 'default' }, batch)).opened[0]!;
    });
    const file = path.join(exports, 'WhatsApp Chat with Jane Smith.txt');
    await writeFile(file, Array.from({ length: 5_000 }, (_, i) => `14/03/2024, 10:${String(i % 60).padStart(2, '0')} - ${i % 2 ? 'Tom Baker' : 'Jane Smith'}: message ${i}`).join('\n'));
    const source = await openExportSource(file);
    try {
      await withDb(async ({ db }) => {
        const store = new SqlStore(db, 'default');
        const ingestDeps = { store, clock: { now: Date.now }, tenant: 'default' };
        const reader = await openExportReader(source);
        const scan = await scanExport(reader);
        const conversation = (await store.read((tx) => store.getConversation(tx, live.id)))!;
        let delivered = 0;
        // Groups built as if nothing came between them (as on the import's thread), with a live
        // message stored after the first group: the rest must chain on over that message.
        const prepare = (context: PrepareContext) =>
          (async function* () {
            for await (const group of prepareHere(reader.messages(), context)) {
              if (delivered++ === 1) {
                const batch = normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(inboundMessage({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'live during' })))));
                await ingestBatch(ingestDeps, batch);
              }
              yield group;
            }
          })();
        const plan = { conversation, source: { name: 'chat.txt', sha256: await hashFile(file), size: source.size, kind: source.kind }, clock: new WallClock('UTC'), dateOrder: reader.dateOrder, firmAuthors: ['Tom Baker'], importedBy: 'clerk', mirror: false };
        const blobs = (await openBlobStore({ dataDir: dir, blobEncryption: true }, db)).store;
        const result = await importExport({ ...ingestDeps, imports: new SqlImportStore('default'), blobs }, plan, reader, scan, () => {}, prepare);
        expect(result).toMatchObject({ messages: 5_000, added: 5_000 });
        expect(delivered).toBe(3);
        const events = await db.selectFrom('events').select(['seq', 'channel']).where('conversation_id', '=', live.id).orderBy('seq').execute();
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 5_002 }, (_, i) => i + 1));
        // The live message sits between the first group and the second.
        expect(events.filter((e) => e.channel === 'cloud-api').map((e) => e.seq)).toEqual([1, 2_002]);
        const report = await verifyArchive({ db, blobs, trustedKeys: [] });
        expect(report.problems).toEqual([]);
        expect(report.events).toBe(5_002);
      });
    } finally {
      await source.close();
    }
  });

  it('adds nothing when the same file is imported again, and records the second attempt', async () => {
    const zip = await iosZip();
    const args = ['import', zip, '--client-phone', '+447700900123', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London'];
    expect((await cli(...args)).code).toBe(0);
    const before = await tableCounts();
    const again = await cli(...args);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^import 2: 7 messages read, 0 added, 7 already archived;/);
    const after = await tableCounts();
    // The second attempt is on record, in the imports and the audit trail; nothing else changed.
    expect({ ...after, imports: after.imports! - 1, audit_entries: after.audit_entries! - 1 }).toEqual(before);
  });

  it('continues the chain of a live conversation named by its chat id, placing the firm by the client name', async () => {
    const live = await withDb(async ({ db }) => {
      const store = new SqlStore(db, 'default');
      const batch = normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(inboundMessage({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'live hello' })))));
      return (await ingestBatch({ store, clock: { now: Date.now }, tenant: 'default' }, batch)).opened[0]!;
    });
    const run = await cli('import', path.join(corpus, 'android-24h-uk-dash.txt'), '--conversation', live.chatToken, '--timezone', 'UTC');
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/6 messages read, 6 added/);
    await withDb(async ({ db }) => {
      const events = await listEvents(db, live.id);
      expect(events.map((e) => [e.seq, e.channel])).toEqual([
        [1, 'cloud-api'],
        ...[2, 3, 4, 5, 6, 7].map((seq) => [seq, 'chat-export']),
      ]);
      expect(events.filter((e) => e.direction === 'outbound').map((e) => (e.event.kind === 'message' && e.event.content.type === 'text' ? e.event.content.body : ''))).toEqual([
        'Of course.\nWhich clause?',
        'This message was deleted',
      ]);
      expect((await verifyArchive({ db, blobs: (await openBlobStore({ dataDir: dir, blobEncryption: true }, db)).store, trustedKeys: [] })).problems).toEqual([]);
      // Imported text is searchable like live text.
      const hits = await searchMessages(db, { match: '"break"*', scope: { kind: 'all' }, limit: 10 });
      expect(hits.map((h) => h.waMessageId)).toEqual([expect.stringMatching(/^export\.[0-9a-f]{32}\.6$/)]);
    });
  });

  it('queues one mail per message and the cover with --mirror, and says what journaling does with old dates', async () => {
    const run = await cli('import', path.join(corpus, 'android-12h-us.txt'), '--client-phone', '+1 202 555 0143', '--firm-author', 'Tom Baker', '--mirror');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/journaling .* records them when they are sent, not at those dates; the Graph import route is not journaled/);
    await withDb(async ({ db }) => {
      const jobs = await db.selectFrom('outbox_jobs').select(['kind', 'payload_json']).orderBy('sort_key').orderBy('id').execute();
      expect(jobs.map((j) => j.kind)).toEqual(Array(6).fill('mail.relay'));
      expect(JSON.parse(jobs[0]!.payload_json)).toMatchObject({ eventId: null });
      expect((await listImports(db))[0]!.mirrored).toBe(true);

      // The queued jobs relay like live ones: each mail dated when the message was written.
      const mails: string[] = [];
      const store = new SqlStore(db, 'default');
      const outbox = new SqlOutbox(db);
      const deps = {
        store,
        outbox,
        blobs: (await openBlobStore({ dataDir: dir, blobEncryption: true }, db)).store,
        composer: new DeterministicComposer(),
        transport: { send: async (raw: Buffer) => (mails.push(raw.toString('utf8')), { response: '250 ok' }), close: async () => {} },
        clock: { now: Date.now },
        tenant: 'default',
        mailDomain: 'bridge.firm.example',
        timeZone: 'Europe/London',
        mailbox: 'whatsapp@firm.example',
        envelopeFrom: 'bridge@bridge.firm.example',
        replySecret: Buffer.alloc(32, 1),
      };
      for (let jobs = await outbox.claim(10, Date.now(), 60_000); jobs.length > 0; jobs = await outbox.claim(10, Date.now(), 60_000)) {
        for (const job of jobs) await relayEvent(deps, job as Job<'mail.relay'>);
      }
      expect(mails).toHaveLength(6);
      const mail = mails.find((m) => m.includes('Photo of the damage'))!;
      // 12:01 PM in the machine's zone when no --timezone is given: the header carries that instant.
      expect(new Date(/^Date: (.+)$/m.exec(mail)![1]!).getTime()).toBe((await listEvents(db, 1))[2]!.timestamp);
    });
  });

  it('links the conversation to a matter, and imports into the one a matter names', async () => {
    await withDb(({ db }) => createMatter(db, { reference: 'LIT-2024-0042', title: 'Lease dispute', matterType: null, members: [], createdBy: 'admin' }, Date.now()));
    const first = await cli('import', path.join(corpus, 'android-fi-klo.txt'), '--client-phone', '+358 40 1234567', '--firm-author', 'Tuomas Laine', '--matter', 'lit-2024-0042');
    expect(first.code).toBe(0);
    const second = await cli('import', path.join(corpus, 'android-24h-uk-dash.txt'), '--matter', 'LIT-2024-0042', '--firm-author', 'Tom Baker');
    expect(second.stdout).toMatch(/6 added, .*conversation 1 /);
    await withDb(async ({ db }) => {
      expect((await listLinks(db, [1], true)).map((l) => l.matterId)).toEqual([1]);
      expect((await listEvents(db, 1)).length).toBe(9);
    });
    // Each import is on record as the API's are, and so is the link the first one made.
    const entries = (await cli('audit', '--format', 'json')).stdout.trim().split('\n').map((line) => JSON.parse(line) as { action: string; target: string; actor: string; details: Record<string, unknown> });
    expect(entries.filter((e) => e.action === 'import' || e.action === 'matter.link').map((e) => [e.action, e.details.added ?? e.details.matter])).toEqual([
      ['import', 3],
      ['matter.link', 'LIT-2024-0042'],
      ['import', 6],
    ]);
    expect(entries.find((e) => e.action === 'import')).toMatchObject({ actor: expect.stringMatching(/^cli:/), target: expect.stringMatching(/^conversation:[a-z2-7]{26}$/), details: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    const unknown = await cli('import', path.join(corpus, 'android-fi-klo.txt'), '--matter', 'NOPE-1', '--firm-author', 'Tuomas Laine');
    expect([unknown.code, unknown.stderr]).toEqual([2, 'wa-bridge: --matter: no matter with reference "NOPE-1"\n']);
  });
});

describe('wa-bridge import refuses bad input and stores nothing', () => {
  const refusals: Array<[string, () => Promise<string[]>, RegExp]> = [
    ['binary junk', async () => [await junk()], /not a WhatsApp chat export: the file (holds binary data|is not UTF-8 text)/],
    ['a text that is no export', async () => [path.join(corpus, 'README.md')], /not a WhatsApp chat export: no "date, time/],
    ['a zip bomb', async () => [await zipBomb()], /expands \d+:1, which only a zip bomb does/],
    ['a zip entry named outside the archive', async () => [await traversal()], /points outside the archive/],
    ['authors it cannot place', async () => [path.join(corpus, 'android-12h-us.txt')], /cannot tell which authors are the firm: pass --firm-author NAME \(authors: "Jane Smith", "Tom Baker"\)/],
    ['an unknown conversation', async () => [path.join(corpus, 'android-12h-us.txt'), '--conversation', '999', '--firm-author', 'Tom Baker'], /--conversation: no conversation "999"/],
    ['a time zone that does not exist', async () => [path.join(corpus, 'android-12h-us.txt'), '--timezone', 'Europe/Atlantis'], /--timezone: "Europe\/Atlantis" is not an IANA time zone/],
  ];

  async function junk() {
    const file = path.join(exports, 'junk.txt');
    await writeFile(file, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)));
    return file;
  }
  async function zipBomb() {
    const file = path.join(exports, 'bomb.zip');
    await writeZip(file, [
      { name: '_chat.txt', bytes: await readFile(path.join(corpus, 'android-12h-us.txt')) },
      { name: 'VID-20240314-WA0001.mp4', bytes: Buffer.alloc(32 * 1024 * 1024) },
    ]);
    return file;
  }
  async function traversal() {
    const file = path.join(exports, 'traversal.zip');
    await writeZip(file, [
      { name: '_chat.txt', bytes: await readFile(path.join(corpus, 'android-12h-us.txt')) },
      { name: 'xx/IMG-20240314-WA0003.jpg', bytes: photo },
    ]);
    const bytes = await readFile(file);
    for (let i = bytes.indexOf('xx/'); i !== -1; i = bytes.indexOf('xx/', i + 1)) bytes.write('../', i);
    await writeFile(file, bytes);
    return file;
  }

  it.each(refusals)('refuses %s with one line, exit 2, and no row added', async (_what, args, message) => {
    // A conversation with history already there: a refused import must leave it as it was.
    expect((await cli('import', path.join(corpus, 'android-fi-klo.txt'), '--client-phone', '+358401234567', '--firm-author', 'Tuomas Laine')).code).toBe(0);
    const before = await tableCounts();
    const run = await cli('import', ...(await args()), '--client-phone', '+44 7700 900999');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await tableCounts()).toEqual(before);
  });
});
