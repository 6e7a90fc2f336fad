import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxImportBytes } from '@wa-bridge/shared/api/imports';
import { writeZip } from '../../bridge-server/src/channels/chat-export/zip-builder.js';
import { listImports } from '../../bridge-server/src/store/imports.js';
import { useApiWorld, users } from '../support/api-world.js';

// The firm's zone is not the fixtures' (London): an upload that names no zone is read in New York.
const api = useApiWorld({ WA_BRIDGE_TIMEZONE: 'America/New_York' });
const fixture = path.resolve(import.meta.dirname, '../fixtures/exports/android-24h-uk-dash.txt');
let conversationId = 0;

/** Posts FILE's bytes as the raw body, the way the Teams tab uploads an export. */
async function upload(token: string, id: number, bytes: Uint8Array, query: Record<string, string>, type = 'text/plain') {
  const response = await fetch(`${api.world.bridge.url}/api/conversations/${id}/imports?${new URLSearchParams(query)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: new Blob([new Uint8Array(bytes)]),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.json() };
}

const countEvents = async () => Number((await api.world.bridge.store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const countImports = async () => (await listImports(api.world.bridge.store.db)).length;

beforeAll(async () => {
  const client = await api.clientWrites('447700900811', 'I have the old chat on my phone', { name: 'Jane Smith' });
  conversationId = client.conversationId;
  const matter = (await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'IMP-LEASE', title: 'Lease', members: [users.caseHandler.upn] })).body.id as number;
  expect((await api.as(users.admin)('POST', `/api/conversations/${conversationId}/links`, { matterId: matter })).status).toBe(201);
});

describe('POST /api/conversations/:id/imports', () => {
  it('imports an export for a case handler on the matter, with original times, once', async () => {
    const token = await api.token(users.caseHandler);
    const bytes = await readFile(fixture);
    const first = await upload(token, conversationId, bytes, { fileName: 'WhatsApp Chat with Jane Smith.txt', timeZone: 'Europe/London', firmAuthors: 'Tom Baker' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ conversationId, messages: 6, added: 6, duplicates: 0, mediaLinked: 0, firstMessageAt: '2024-03-14T09:12:00.000Z', dateOrder: 'dmy', timeZone: 'Europe/London' });
    expect(first.body.importId).toBeGreaterThan(0);
    // 01/04/2024 08:00 in London is summer time: 07:00 UTC.
    expect(first.body.lastMessageAt).toBe('2024-04-01T07:00:00.000Z');

    const page = await api.call(token, 'GET', `/api/conversations/${conversationId}/messages?limit=100`);
    expect(page.status).toBe(200);
    const clause = page.body.items.find((m: { text: string | null }) => m.text === 'Clause 4.2: the break clause');
    expect(clause).toMatchObject({ sentAt: '2024-03-14T21:05:00.000Z', direction: 'inbound', sender: { side: 'client' } });
    const reply = page.body.items.find((m: { text: string | null }) => m.text === 'Of course.\nWhich clause?');
    expect(reply).toMatchObject({ sentAt: '2024-03-14T09:20:00.000Z', direction: 'outbound', sender: { side: 'firm' } });
    // Listed by when they were sent: the 2024 history before the message the client sent today,
    // though it was stored after it; and paging follows the same order.
    const texts = page.body.items.map((m: { text: string | null }) => m.text);
    expect(texts.at(-1)).toBe('I have the old chat on my phone');
    const times = page.body.items.map((m: { sentAt: string }) => Date.parse(m.sentAt));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    const newest = await api.call(token, 'GET', `/api/conversations/${conversationId}/messages?limit=2`);
    const older = await api.call(token, 'GET', `/api/conversations/${conversationId}/messages?limit=100&cursor=${newest.body.nextCursor}`);
    expect([...older.body.items, ...newest.body.items].map((m: { text: string | null }) => m.text)).toEqual(texts);

    const events = await countEvents();
    const again = await upload(token, conversationId, bytes, { fileName: 'WhatsApp Chat with Jane Smith.txt', timeZone: 'Europe/London', firmAuthors: 'Tom Baker' });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ messages: 6, added: 0, duplicates: 6 });
    expect(await countEvents()).toBe(events);

    const trail = await api.call(await api.token(users.compliance), 'GET', '/api/audit?action=import');
    expect(trail.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ actor: users.caseHandler.upn, action: 'import', details: expect.objectContaining({ importId: first.body.importId, added: 6 }) })]),
    );
  });

  it("reads the times in the firm's zone when the upload names none", async () => {
    const other = await api.clientWrites('447700900812', 'Here is our chat from before', { name: 'Jane Smith' });
    // Another file than the one imported above (a file's messages belong to one conversation): one more line.
    const bytes = Buffer.concat([await readFile(fixture), Buffer.from('02/04/2024, 10:30 - Jane Smith: Signed and posted\n')]);
    const answer = await upload(await api.token(users.admin), other.conversationId, bytes, { fileName: 'WhatsApp Chat with Jane Smith.txt', firmAuthors: 'Tom Baker' });
    expect(answer.status).toBe(201);
    // 14/03/2024 09:12 in New York (daylight time since 10 March) is 13:12 UTC; in London it would be 09:12.
    expect(answer.body).toMatchObject({ added: 7, timeZone: 'America/New_York', firstMessageAt: '2024-03-14T13:12:00.000Z', lastMessageAt: '2024-04-02T14:30:00.000Z' });
  });

  it('imports a zip with its media, which can then be downloaded', async () => {
    const token = await api.token(users.caseHandler);
    const dir = await mkdtemp(path.join(tmpdir(), 'wab-api-import-'));
    try {
      const zip = path.join(dir, 'chat.zip');
      const photo = randomBytes(2048);
      await writeZip(zip, [
        { name: '_chat.txt', bytes: await readFile(path.resolve(import.meta.dirname, '../fixtures/exports/ios-24h-uk-bracketed.txt')) },
        { name: '00000012-PHOTO-2024-03-14-09-13-10.jpg', bytes: photo, compress: false },
      ]);
      const answer = await upload(token, conversationId, await readFile(zip), { fileName: 'WhatsApp Chat - Jane Smith.zip', timeZone: 'Europe/London', firmAuthors: 'Tom Baker' }, 'application/zip');
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ mediaLinked: 1, duplicates: 0 });
      expect(answer.body.mediaMissing).toBeGreaterThan(0);
      const page = await api.call(token, 'GET', `/api/conversations/${conversationId}/messages?limit=100`);
      const withPhoto = page.body.items.find((m: { attachments: Array<{ fileName: string | null }> }) => m.attachments.some((a) => a.fileName === '00000012-PHOTO-2024-03-14-09-13-10.jpg'));
      expect(withPhoto).toBeDefined();
      const download = await fetch(`${api.world.bridge.url}${withPhoto.attachments[0].downloadUrl}`, { headers: { authorization: `Bearer ${token}` } });
      expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a solicitor who is not on the matter', async () => {
    const answer = await upload(await api.token(users.solicitorB), conversationId, await readFile(fixture), { fileName: 'chat.txt', firmAuthors: 'Tom Baker' });
    expect(answer.status).toBe(403);
    expect(answer.type).toMatch(/problem\+json/);
  });

  it('refuses binary junk with a problem and stores nothing', async () => {
    const token = await api.token(users.caseHandler);
    const [events, imports] = [await countEvents(), await countImports()];
    const junk = randomBytes(64 * 1024);
    const answer = await upload(token, conversationId, junk, { fileName: 'chat.txt' });
    expect(answer.status).toBe(400);
    expect(answer.type).toMatch(/problem\+json/);
    expect(answer.body.detail).toMatch(/\S/);
    const zip = await upload(token, conversationId, junk, { fileName: 'chat.zip' }, 'application/zip');
    expect(zip.status).toBe(400);
    expect([await countEvents(), await countImports()]).toEqual([events, imports]);
  });

  it('asks which authors are the firm when it cannot tell, and refuses other media types', async () => {
    const token = await api.token(users.caseHandler);
    const events = await countEvents();
    const unplaced = await upload(token, conversationId, Buffer.from('14/03/2024, 09:12 - Ann: hi\n14/03/2024, 09:13 - Ben: hello\n14/03/2024, 09:14 - Cy: hey\n'), { fileName: 'group.txt' });
    expect(unplaced.status).toBe(400);
    expect(unplaced.body.code).toBe('authors_unplaced');
    const json = await upload(token, conversationId, Buffer.from('{}'), { fileName: 'chat.txt' }, 'application/json');
    expect(json.status).toBe(400);
    expect(await countEvents()).toBe(events);
  });

  it('refuses an export larger than the limit from its declared length, before reading it', async () => {
    const token = await api.token(users.caseHandler);
    const url = new URL(`${api.world.bridge.url}/api/conversations/${conversationId}/imports?fileName=big.zip`);
    // Only the header claims the size: the answer must come before any of the body is sent.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/zip', 'content-length': String(maxImportBytes + 1) } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'payload_too_large', detail: expect.stringContaining('200 MiB') });
  });
});
