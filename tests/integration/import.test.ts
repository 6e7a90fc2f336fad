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
import { importExport, openImportConversation, scanExport } from '../../bridge-server/src/flows/import.js';
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
import { useApiWorld, users } from '../support/api-world.js';

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

  it("reads the export's times in WA_BRIDGE_TIMEZONE when --timezone is left out", async () => {
    const saved = process.env.WA_BRIDGE_TIMEZONE;
    process.env.WA_BRIDGE_TIMEZONE = 'America/New_York';
    try {
      const run = await cli('import', path.join(corpus, 'android-24h-uk-dash.txt'), '--client-phone', '+447700900123', '--firm-author', 'Tom Baker');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('times read as America/New_York');
    } finally {
      if (saved === undefined) delete process.env.WA_BRIDGE_TIMEZONE;
      else process.env.WA_BRIDGE_TIMEZONE = saved;
    }
    // 14/03/2024, 09:12 in New York, on summer time since the 10th: 13:12 UTC.
    await withDb(async ({ db }) => expect((await listEvents(db, 1))[0]!.timestamp).toBe(Date.UTC(2024, 2, 14, 13, 12)));
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

describe("wa-bridge import of WhatsApp's own notices in an iOS export", () => {
  it("archives the notice iOS writes under the client's name as a WhatsApp notice, and what the client typed or sent as theirs", async () => {
    const lrm = '\u200e';
    const notice = 'Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.';
    const file = path.join(exports, 'WhatsApp Chat - Jane Client.zip');
    const inventory = Buffer.from('%PDF-1.4 inventory');
    await writeZip(file, [
      {
        name: '_chat.txt',
        bytes: Buffer.from(
          [
            `[25/11/2026, 09:14:03] Jane Client: ${lrm}${notice}`,
            '[25/11/2026, 09:15:10] Jane Client: Good morning, the inventory is attached',
            `${lrm}[25/11/2026, 09:15:30] Jane Client: ${lrm}<attached: 00000015-Inventory of items removed from the flat.pdf>`,
            `${lrm}[26/11/2026, 08:00:00] Jane Client: Your security code with Jane Client changed. Tap to learn more.`,
            '[26/11/2026, 08:05:00] Jane Client: Messages and calls are end-to-end encrypted, so I can send my bank details here?',
            '[26/11/2026, 08:20:00] Tom Baker: Please do not; call me instead',
          ].join('\n'),
        ),
      },
      { name: '00000015-Inventory of items removed from the flat.pdf', bytes: inventory },
    ]);
    const run = await cli('import', file, '--client-phone', '+447700900123', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^import 1: 6 messages read, 6 added, 0 already archived; media 1 linked, 0 not in the export;/);
    await withDb(async ({ db }) => {
      const events = await listEvents(db, 1);
      const shown = events.map((e) => {
        if (e.event.kind !== 'message') return [];
        const content = e.event.content;
        const body = content.type === 'text' || content.type === 'system' ? content.body : content.type === 'document' ? content.media.fileName : '';
        return [e.direction, content.type, e.event.author?.name ?? null, body];
      });
      expect(shown).toEqual([
        ['inbound', 'system', null, notice],
        ['inbound', 'text', 'Jane Client', 'Good morning, the inventory is attached'],
        ['inbound', 'document', 'Jane Client', '00000015-Inventory of items removed from the flat.pdf'],
        ['inbound', 'system', null, 'Your security code with Jane Client changed. Tap to learn more.'],
        ['inbound', 'text', 'Jane Client', 'Messages and calls are end-to-end encrypted, so I can send my bank details here?'],
        ['outbound', 'text', 'Tom Baker', 'Please do not; call me instead'],
      ]);
      expect(events[0]!.event.raw).toMatchObject({ author: null, line: 1 });
      // The conversation is the client's by name: the notices did not make another author.
      expect((await db.selectFrom('conversations').select('client_name').executeTakeFirstOrThrow()).client_name).toBe('Jane Client');
    });
  });
});

describe('wa-bridge import tells the times a clock change made missing or double', () => {
  const night = [
    '28/03/2026, 23:50 - Jane Client: Are you up?',
    '29/03/2026, 01:30 - Jane Client: The clocks go forward tonight',
    '29/03/2026, 03:10 - Tom Baker: They have',
    '25/10/2026, 01:30 - Jane Client: And back again',
    '25/10/2026, 09:00 - Tom Baker: Good morning',
  ];
  const warned = [
    'wa-bridge: warning: line 2: 2026-03-29 01:30:00 does not exist in Europe/London (the clocks went forward 1 hour); read as 02:30:00 UTC+01:00 (2026-03-29T01:30:00Z), just after the gap\n',
    'wa-bridge: warning: line 4: 2026-10-25 01:30:00 occurs twice in Europe/London (the clocks went back 1 hour); read as the first, UTC+01:00 (2026-10-25T00:30:00Z), not the second, UTC+00:00 (2026-10-25T01:30:00Z)\n',
  ].join('');

  it('names each such line, says what is wrong with its time and how it was read, on one thread or two', async () => {
    const file = path.join(exports, 'WhatsApp Chat with Jane Client.txt');
    await writeFile(file, `${night.join('\n')}\n`);
    const args = ['import', file, '--client-phone', '+447700900123', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London'];
    const run = await cli(...args, '--threads', '1');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^import 1: 5 messages read, 5 added, 0 already archived;/);
    expect(run.stderr).toBe(warned);
    await withDb(async ({ db }) => {
      const times = (await listEvents(db, 1)).map((e) => new Date(e.timestamp).toISOString());
      expect(times).toEqual(['2026-03-28T23:50:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-29T02:10:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T09:00:00.000Z']);
    });
    // Read again (nothing added), on the import's own thread: the same times, told the same way.
    const again = await cli(...args, '--threads', '2');
    expect(again.stdout).toMatch(/^import 2: 5 messages read, 0 added, 5 already archived;/);
    expect(again.stderr).toBe(warned);
    // In a zone without clock changes there is nothing to tell.
    const utc = await cli('import', file, '--client-phone', '+447700900124', '--firm-author', 'Tom Baker', '--timezone', 'UTC');
    expect(utc).toMatchObject({ code: 0, stderr: '' });
  });

  it('counts many such times and words the first few', async () => {
    const file = path.join(exports, 'WhatsApp Chat with Jane Client.txt');
    const overlap = Array.from({ length: 12 }, (_, i) => `25/10/2026, 01:${String(i * 5).padStart(2, '0')} - ${i % 2 ? 'Tom Baker' : 'Jane Client'}: message ${i}`);
    await writeFile(file, `${[...night.slice(0, 2), ...overlap].join('\n')}\n`);
    const run = await cli('import', file, '--client-phone', '+447700900123', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London');
    expect(run.code).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('wa-bridge: warning: 13 message times fall in a clock change in Europe/London: 1 does not exist (read as just after the gap), 12 occur twice (read as the first); the first 5:');
    expect(lines.slice(1).map((line) => /^wa-bridge: warning: (line \d+): \S+ \S+ (does not exist|occurs twice) in Europe\/London/.exec(line)?.slice(1))).toEqual([
      ['line 2', 'does not exist'],
      ['line 3', 'occurs twice'],
      ['line 4', 'occurs twice'],
      ['line 5', 'occurs twice'],
      ['line 6', 'occurs twice'],
    ]);
  });

  it('gives the import flow\'s result the counts and the lines to show', async () => {
    const file = path.join(exports, 'chat.txt');
    await writeFile(file, `${night.join('\n')}\n`);
    const source = await openExportSource(file);
    try {
      await withDb(async ({ db }) => {
        const store = new SqlStore(db, 'default');
        const deps = { store, clock: { now: Date.now }, tenant: 'default' };
        const conversation = await openImportConversation(deps, { businessId: 'chat-export', clientWaId: '447700900123', clientName: 'Jane Client', openedAt: Date.now(), mirror: false });
        const reader = await openExportReader(source);
        const scan = await scanExport(reader);
        const plan = { conversation, source: { name: 'chat.txt', sha256: await hashFile(file), size: source.size, kind: source.kind }, clock: new WallClock('Europe/London'), dateOrder: reader.dateOrder, firmAuthors: ['Tom Baker'], importedBy: 'clerk', mirror: false };
        const blobs = (await openBlobStore({ dataDir: dir, blobEncryption: true }, db)).store;
        const result = await importExport({ ...deps, imports: new SqlImportStore('default'), blobs }, plan, reader, scan);
        expect(result.clockChanges).toMatchObject({ total: 2, gaps: 1, overlaps: 1 });
        expect(result.clockChanges.first.map((c) => [c.line, c.kind, c.wall])).toEqual([
          [2, 'gap', '2026-03-29T01:30:00'],
          [4, 'overlap', '2026-10-25T01:30:00'],
        ]);
        expect(result.warnings.map((w) => `wa-bridge: warning: ${w}\n`).join('')).toBe(warned);
      });
    } finally {
      await source.close();
    }
  });
});

describe('POST /api/conversations/:id/imports tells the times a clock change made missing or double', () => {
  const api = useApiWorld();

  it('lists them in the answer, one line each, and none for an export without any', async () => {
    const client = await api.clientWrites('447700900812', 'I found the old chat', { name: 'Jane Client' });
    const matter = (await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'IMP-DST', title: 'Clock change', members: [users.caseHandler.upn] })).body.id as number;
    expect((await api.as(users.admin)('POST', `/api/conversations/${client.conversationId}/links`, { matterId: matter })).status).toBe(201);
    const token = await api.token(users.caseHandler);
    const upload = async (text: string, timeZone: string) => {
      const query = new URLSearchParams({ fileName: 'WhatsApp Chat with Jane Client.txt', timeZone, firmAuthors: 'Tom Baker' });
      const response = await fetch(`${api.world.bridge.url}/api/conversations/${client.conversationId}/imports?${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: text,
      });
      return { status: response.status, body: (await response.json()) as { added: number; warnings: string[] } };
    };
    const answer = await upload(
      ['29/03/2026, 01:30 - Jane Client: The clocks go forward tonight', '25/10/2026, 01:30 - Tom Baker: And back again'].join('\n'),
      'Europe/London',
    );
    expect(answer.status).toBe(201);
    expect(answer.body.added).toBe(2);
    expect(answer.body.warnings).toEqual([
      'line 1: 2026-03-29 01:30:00 does not exist in Europe/London (the clocks went forward 1 hour); read as 02:30:00 UTC+01:00 (2026-03-29T01:30:00Z), just after the gap',
      'line 2: 2026-10-25 01:30:00 occurs twice in Europe/London (the clocks went back 1 hour); read as the first, UTC+01:00 (2026-10-25T00:30:00Z), not the second, UTC+00:00 (2026-10-25T01:30:00Z)',
    ]);
    const plain = await upload('14/03/2026, 09:12 - Jane Client: Nothing odd about this one\n14/03/2026, 09:20 - Tom Baker: Indeed', 'Europe/London');
    expect(plain.status).toBe(201);
    expect(plain.body.warnings).toEqual([]);
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
