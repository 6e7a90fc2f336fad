import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip, type ZipItem } from '../../bridge-server/src/channels/chat-export/zip-builder.js';
import { main } from '../../bridge-server/src/cli/index.js';
import { openSqlite } from '../../bridge-server/src/store/db.js';
import { useApiWorld, users } from '../support/api-world.js';
import { runWaBridge } from '../support/cli.js';
import { digestTables, fuzzParameters, fuzzTimeout } from './support.js';

/**
 * Hostile WhatsApp exports through every door: `wa-bridge parse-export` and `wa-bridge import`
 * (exit 2, one line, nothing printed or stored) and the imports API (a 4xx problem, nothing
 * stored). Generated junk may happen to be an export; then it is imported, and never a 5xx.
 */

const corpus = path.resolve(import.meta.dirname, '../fixtures/exports');
const api = useApiWorld();
let scratch = '';
let cliDataDir = '';
let conversationId = 0;
let chatText: Buffer;
const photo = Buffer.from('\xff\xd8\xff\xe0 photo of the signed lease', 'latin1');

interface Hostile {
  what: string;
  file: string;
  /** What the one line of refusal names. */
  reason: RegExp;
}
const hostile: Hostile[] = [];

/** Replaces every occurrence of `from` by `to` (same length) in the bytes: names sit in two headers. */
function patch(bytes: Buffer, from: string | Buffer, to: string | Buffer): Buffer {
  const [a, b] = [Buffer.from(from), Buffer.from(to)];
  expect(a.length).toBe(b.length);
  const out = Buffer.from(bytes);
  let found = 0;
  for (let i = out.indexOf(a); i !== -1; i = out.indexOf(a, i + 1)) {
    b.copy(out, i);
    found += 1;
  }
  expect(found).toBeGreaterThan(0);
  return out;
}

/** Offsets of the local and central headers of the entry named `name`. */
function headersOf(zip: Buffer, name: string): { local: number; central: number } {
  const nameBytes = Buffer.from(name);
  let local = -1;
  let central = -1;
  for (let i = 0; i < zip.length - 4; i += 1) {
    const signature = zip.readUInt32LE(i);
    if (signature === 0x04034b50 && zip.subarray(i + 30, i + 30 + nameBytes.length).equals(nameBytes)) local = i;
    if (signature === 0x02014b50 && zip.subarray(i + 46, i + 46 + nameBytes.length).equals(nameBytes)) central = i;
  }
  expect(local).toBeGreaterThanOrEqual(0);
  expect(central).toBeGreaterThanOrEqual(0);
  return { local, central };
}

async function zipBytes(items: ZipItem[]): Promise<Buffer> {
  const file = path.join(scratch, `build-${randomBytes(6).toString('hex')}.zip`);
  await writeZip(file, items);
  return readFile(file);
}

async function add(what: string, name: string, bytes: Buffer | Promise<Buffer>, reason: RegExp): Promise<void> {
  const file = path.join(scratch, name);
  await writeFile(file, await bytes);
  hostile.push({ what, file, reason });
}

/** Runs `wa-bridge …` in this process, as the command line does, collecting what it prints. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  const env = { dir: process.env.WA_BRIDGE_DATA_DIR, log: process.env.WA_BRIDGE_LOG_LEVEL };
  process.env.WA_BRIDGE_DATA_DIR = cliDataDir;
  process.env.WA_BRIDGE_LOG_LEVEL = 'silent';
  process.exitCode = 0;
  try {
    await main(['node', 'wa-bridge', ...args]);
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
    if (env.dir === undefined) delete process.env.WA_BRIDGE_DATA_DIR;
    else process.env.WA_BRIDGE_DATA_DIR = env.dir;
    if (env.log === undefined) delete process.env.WA_BRIDGE_LOG_LEVEL;
    else process.env.WA_BRIDGE_LOG_LEVEL = env.log;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Digest of the CLI's own store (a data dir apart from the running bridge's). */
async function cliArchive() {
  const opened = openSqlite(path.join(cliDataDir, 'wa-bridge.sqlite'));
  try {
    return await digestTables(opened.db, { tables: ['events', 'conversations', 'attachments', 'imports', 'blobs', 'audit_entries', 'outbox_jobs'] });
  } finally {
    await opened.close();
  }
}

const bridgeDb = () => api.world.bridge.store.db;
const apiArchive = () => digestTables(bridgeDb(), { tables: ['events', 'conversations', 'attachments', 'imports', 'blobs', 'outbox_jobs', 'mail_relays'] });
const importCount = async () => Number((await sql<{ n: number }>`SELECT count(*) AS n FROM imports`.execute(bridgeDb())).rows[0]!.n);
const eventCount = async () => Number((await sql<{ n: number }>`SELECT count(*) AS n FROM events`.execute(bridgeDb())).rows[0]!.n);

/** Posts the bytes as the Teams tab uploads an export. */
async function upload(bytes: Uint8Array, fileName: string): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const token = await api.token(users.admin);
  const query = new URLSearchParams({ fileName, timeZone: 'Europe/London', firmAuthors: 'Tom Baker' });
  const response = await fetch(`${api.world.bridge.url}/api/conversations/${conversationId}/imports?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': fileName.endsWith('.zip') ? 'application/zip' : 'text/plain' },
    body: new Blob([new Uint8Array(bytes)]),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

/** A refusal through the API: a problem document with a code and a detail, never a stack. */
function expectProblem(answer: Awaited<ReturnType<typeof upload>>, reason?: RegExp): void {
  expect([400, 413, 415, 422], JSON.stringify(answer.body)).toContain(answer.status);
  expect(answer.type).toContain('application/problem+json');
  expect(answer.body.code).toMatch(/^[a-z_]+$/);
  expect(String(answer.body.detail)).toMatch(/\S/);
  expect(String(answer.body.detail)).not.toMatch(/\n\s+at /);
  if (reason) expect(String(answer.body.detail)).toMatch(reason);
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'wab-export-fuzz-'));
  cliDataDir = await mkdtemp(path.join(tmpdir(), 'wab-export-fuzz-data-'));
  chatText = await readFile(path.join(corpus, 'android-12h-us.txt'));
  const good = (extra: ZipItem[] = []) => zipBytes([{ name: 'WhatsApp Chat with Jane Smith.txt', bytes: chatText }, { name: 'IMG-20240314-WA0003.jpg', bytes: photo, compress: false }, ...extra]);

  await add('a zip bomb: a media entry that inflates 1000:1', 'bomb.zip', good([{ name: 'VID-20240314-WA0001.mp4', bytes: Buffer.alloc(48 * 1024 * 1024) }]), /expands \d+:1/);
  await add('a zip bomb as the chat text itself', 'text-bomb.zip', zipBytes([{ name: '_chat.txt', bytes: Buffer.concat([chatText, Buffer.alloc(40 * 1024 * 1024, 0x61)]) }]), /_chat\.txt.*expands \d+:1/);
  {
    const zip = await good([{ name: 'VID-20240314-WA0002.mp4', bytes: Buffer.from('small video') }]);
    const { local, central } = headersOf(zip, 'VID-20240314-WA0002.mp4');
    zip.writeUInt32LE(0xfffffff0, local + 22);
    zip.writeUInt32LE(0xfffffff0, central + 24);
    await add('an entry that declares it unpacks to 4 GB', 'declared-huge.zip', Promise.resolve(zip), /would unpack to \d+ bytes|expands/);
  }
  await add(
    'more entries than any export holds',
    'many-entries.zip',
    zipBytes([{ name: '_chat.txt', bytes: chatText }, ...Array.from({ length: 20_001 }, (_, i) => ({ name: `IMG-${i}.jpg`, bytes: Buffer.from([i & 255]), compress: false }))]),
    /20002 entries, more than the 20000/,
  );
  await add('an entry whose name climbs out with ..', 'traversal.zip', good([{ name: 'xx/IMG-20240314-WA0009.jpg', bytes: photo }]).then((z) => patch(z, 'xx/IMG-20240314-WA0009', '../IMG-20240314-WA0009')), /outside the archive/);
  await add('an absolute entry name', 'absolute.zip', good([{ name: 'Xetc/IMG-20240314-WA0010.jpg', bytes: photo }]).then((z) => patch(z, 'Xetc/IMG-20240314-WA0010', '/etc/IMG-20240314-WA0010')), /outside the archive/);
  await add('a backslash path in an entry name', 'backslash.zip', good([{ name: 'dirXIMG-20240314-WA0011.jpg', bytes: photo }]).then((z) => patch(z, 'dirXIMG-20240314-WA0011', 'dir\\IMG-20240314-WA0011')), /outside the archive/);
  await add('a control character in an entry name', 'control.zip', good([{ name: 'IMG-20240314-WA0012X.jpg', bytes: photo }]).then((z) => patch(z, 'WA0012X', 'WA0012\u0007')), /outside the archive|invalid characters/);
  await add('a symbolic link entry', 'symlink.zip', good([{ name: 'IMG-20240314-WA0013.jpg', bytes: Buffer.from('/etc/passwd'), mode: 0o120777 }]), /symbolic link/);
  {
    const zip = await good([{ name: 'IMG-20240314-WA0014.jpg', bytes: photo }]);
    const { local, central } = headersOf(zip, 'IMG-20240314-WA0014.jpg');
    zip.writeUInt16LE(zip.readUInt16LE(local + 6) | 1, local + 6);
    zip.writeUInt16LE(zip.readUInt16LE(central + 8) | 1, central + 8);
    await add('an encrypted entry', 'encrypted.zip', Promise.resolve(zip), /encrypted/);
  }
  await add('a zip holding only another zip', 'nested.zip', good().then((inner) => zipBytes([{ name: 'WhatsApp Chat - Jane Smith.zip', bytes: inner }])), /no chat text/);
  await add('several chat texts, none named as WhatsApp names them', 'two-texts.zip', zipBytes([{ name: 'a.txt', bytes: chatText }, { name: 'b.txt', bytes: chatText }]), /several \.txt files/);
  await add('a zip cut off halfway', 'truncated.zip', good().then((z) => z.subarray(0, z.length >> 1)), /not a zip file|damaged/);
  await add('binary junk named .txt', 'junk.txt', Promise.resolve(randomBytes(8192)), /binary data|not a WhatsApp chat export/);
  await add('binary junk behind a zip signature', 'junk.zip', Promise.resolve(Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(8192)])), /not a zip file|damaged/);
  await add('an empty file', 'empty.txt', Promise.resolve(Buffer.alloc(0)), /not a WhatsApp chat export|body is empty/);
  await add('an empty zip', 'empty.zip', Promise.resolve(Buffer.from([0x50, 0x4b, 0x05, 0x06, ...Array<number>(18).fill(0)])), /no chat text/);
  await add('UTF-16 text without a byte order mark', 'utf16.txt', Promise.resolve(Buffer.from(chatText.toString('utf8'), 'utf16le')), /binary data/);
  await add('a line of three million characters', 'huge-line.txt', Promise.resolve(Buffer.concat([Buffer.from('3/14/24, 9:12 AM - Jane Smith: '), Buffer.alloc(3_000_000, 0x78), Buffer.from('\n')])), /runs past \d+ characters/);

  // History that must come through every refusal unchanged: a client's live message, and an
  // export already imported through the API and through the command line.
  const client = await api.clientWrites('447700900812', 'Here is the old chat', { name: 'Jane Smith' });
  conversationId = client.conversationId;
  const seeded = await upload(chatText, 'WhatsApp Chat with Jane Smith.txt');
  expect(seeded.status, JSON.stringify(seeded.body)).toBe(201);
  const first = await cli('import', path.join(corpus, 'android-fi-klo.txt'), '--client-phone', '+358401234567', '--firm-author', 'Tuomas Laine');
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
  if (cliDataDir) await rm(cliDataDir, { recursive: true, force: true });
});

describe('hostile export files', () => {
  it('wa-bridge parse-export refuses each with exit 2, one line naming why, and prints nothing', { timeout: 240_000 }, async () => {
    const queue = [...hostile];
    const results: Array<{ what: string; reason: RegExp; run: Awaited<ReturnType<typeof runWaBridge>> }> = [];
    // Two at a time: each is a real process start.
    await Promise.all(
      [0, 1].map(async () => {
        for (let item = queue.shift(); item; item = queue.shift()) results.push({ what: item.what, reason: item.reason, run: await runWaBridge(cliDataDir, ['parse-export', item.file]) });
      }),
    );
    for (const { what, reason, run } of results) {
      expect({ what, code: run.code, stdout: run.stdout }).toEqual({ what, code: 2, stdout: '' });
      expect(run.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(run.stderr, what).toMatch(/^wa-bridge: /);
      expect(run.stderr, what).toMatch(reason);
    }
  });

  it('wa-bridge import refuses each with exit 2 and one line, and the archive is as it was', { timeout: 120_000 }, async () => {
    const before = await cliArchive();
    for (const item of hostile) {
      const run = await cli('import', item.file, '--client-phone', '+44 7700 900999', '--firm-author', 'Tom Baker');
      expect({ what: item.what, code: run.code, stdout: run.stdout }).toEqual({ what: item.what, code: 2, stdout: '' });
      expect(run.stderr.trim().split('\n'), item.what).toHaveLength(1);
      expect(run.stderr, item.what).toMatch(item.reason);
    }
    expect(await cliArchive()).toEqual(before);
    const verify = await runWaBridge(cliDataDir, ['verify']);
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  });

  it('the imports API answers each with a problem and stores nothing', { timeout: 120_000 }, async () => {
    const before = await apiArchive();
    for (const item of hostile) {
      const answer = await upload(await readFile(item.file), path.basename(item.file));
      expect(answer.status, item.what).not.toBe(201);
      expectProblem(answer, item.reason);
    }
    expect(await apiArchive()).toEqual(before);
  });
});

describe('damaged text inside a sound export', () => {
  it('keeps a message whose bytes are not UTF-8, each bad byte as U+FFFD, and nothing else changes', async () => {
    const last = Number((await sql<{ n: number | null }>`SELECT max(id) AS n FROM events`.execute(bridgeDb())).rows[0]!.n ?? 0);
    const bytes = Buffer.concat([Buffer.from('3/15/24, 9:12 AM - Jane Smith: Broken '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(' bytes\n3/15/24, 9:13 AM - Tom Baker: Noted\n')]);
    const answer = await upload(bytes, 'WhatsApp Chat with Jane Smith.txt');
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({ messages: 2, added: 2 });
    const rows = await bridgeDb().selectFrom('events').select('event_json').where('id', '>', last).orderBy('id').execute();
    expect(rows.map((r) => (JSON.parse(r.event_json) as { content: { body?: string } }).content.body)).toEqual(['Broken \ufffd(\ufffd bytes', 'Noted']);
  });
});

describe('generated junk', () => {
  type Junk =
    | { kind: 'bytes'; bytes: Uint8Array; asZip: boolean }
    | { kind: 'flipped'; flips: Array<{ at: number; value: number }> }
    | { kind: 'cut'; at: number }
    | { kind: 'lines'; lines: string[]; invalidUtf8: boolean };

  const lineArb = fc.oneof(
    fc.constantFrom('3/14/24, 9:12 AM - Jane Smith: Hello', '3/14/24, 9:13 AM - Tom Baker: Hi', '[14/03/2024, 09:12:45] Jane Smith: Hi', '14/03/2024, 25:61 - Jane Smith: bad time', '99/99/99, 9:12 AM - Jane: x', '3/14/24, 9:12 AM - : empty author', '3/14/24, 9:12 AM - Jane Smith: <attached: ../../etc/passwd>', 'IMG-20240314-WA0003.jpg (file attached)', '\u200e\u202e3/14/24, 9:12 AM - Jane: rtl'),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
  );
  const junkArb: fc.Arbitrary<Junk> = fc.oneof(
    fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 4096 }), asZip: fc.boolean() }),
    fc.record({ kind: fc.constant('flipped' as const), flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('lines' as const), lines: fc.array(lineArb, { minLength: 1, maxLength: 40 }), invalidUtf8: fc.boolean() }),
  );

  let validZip: Buffer;
  beforeAll(async () => {
    validZip = await zipBytes([
      { name: 'WhatsApp Chat with Jane Smith.txt', bytes: chatText },
      { name: 'IMG-20240314-WA0003.jpg', bytes: photo, compress: false },
    ]);
  });

  function build(junk: Junk): { bytes: Buffer; name: string } {
    switch (junk.kind) {
      case 'bytes':
        return { bytes: Buffer.concat([junk.asZip ? Buffer.from('PK\x03\x04') : Buffer.alloc(0), Buffer.from(junk.bytes)]), name: junk.asZip ? 'junk.zip' : 'junk.txt' };
      case 'flipped': {
        const bytes = Buffer.from(validZip);
        for (const flip of junk.flips) bytes[flip.at % bytes.length] = flip.value;
        return { bytes, name: 'flipped.zip' };
      }
      case 'cut':
        return { bytes: validZip.subarray(0, junk.at % validZip.length), name: 'cut.zip' };
      case 'lines': {
        const text = Buffer.from(junk.lines.join('\n'));
        return { bytes: junk.invalidUtf8 ? Buffer.concat([text, Buffer.from([0xc3, 0x28, 0xff, 0x0a])]) : text, name: 'lines.txt' };
      }
    }
  }

  it('the imports API answers 201 or a problem to every generated file, never a 5xx, and a refusal stores nothing', { timeout: fuzzTimeout(300_000) }, async () => {
    const seen = { imported: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(junkArb, async (junk) => {
        const { bytes, name } = build(junk);
        const [events, imports] = [await eventCount(), await importCount()];
        const answer = await upload(bytes, name);
        if (answer.status === 201) {
          seen.imported += 1;
          expect(await importCount()).toBe(imports + 1);
          expect(await eventCount()).toBe(events + Number(answer.body.added));
        } else {
          seen.refused += 1;
          expectProblem(answer);
          expect([await eventCount(), await importCount()]).toEqual([events, imports]);
        }
      }),
      fuzzParameters(250),
    );
    expect(seen.refused).toBeGreaterThan(50);
    const verify = await runWaBridge(api.world.dataDir, ['verify']);
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  });

  it('wa-bridge parse-export exits 0 with the NDJSON contract or 2 with one line, for generated files', { timeout: fuzzTimeout(240_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(junkArb, async (junk) => {
        const { bytes, name } = build(junk);
        const file = path.join(scratch, `gen-${randomBytes(4).toString('hex')}-${name}`);
        await writeFile(file, bytes);
        const run = await runWaBridge(cliDataDir, ['parse-export', file]);
        if (run.code === 0) {
          for (const line of run.stdout.split('\n').filter((l) => l !== '')) {
            const message = JSON.parse(line) as Record<string, unknown>;
            expect(Object.keys(message).slice(0, 3)).toEqual(['date', 'author', 'message']);
            expect(message.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
          }
        } else {
          expect(run.code).toBe(2);
          expect(run.stdout).toBe('');
          expect(run.stderr.trim().split('\n')).toHaveLength(1);
          expect(run.stderr).toMatch(/^wa-bridge: /);
        }
      }),
      fuzzParameters(12),
    );
  });
});
