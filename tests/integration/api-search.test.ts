import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/bridge.js';
import { useApiWorld, users } from '../support/api-world.js';
import { onPostgres } from '../support/test-database.js';

const api = useApiWorld();

const day = 24 * 3600_000;
const ids = { jane: 0, tom: 0 };
let aliceMatter = 0;

beforeAll(async () => {
  const now = Date.now();
  ids.jane = (await api.clientWrites('447700900801', 'The boundary survey for the cottage is attached', { name: 'Jane Cottage', timestamp: new Date(now - 3 * day) })).conversationId;
  await api.clientWrites('447700900801', 'Any news about the survey?', { name: 'Jane Cottage', timestamp: new Date(now - 3600_000) });
  ids.tom = (await api.clientWrites('447700900802', 'My employer sent the survey results', { name: 'Tom Employ' })).conversationId;
  aliceMatter = (await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'COT-1', title: 'Cottage purchase' })).body.id;
  const bobMatter = (await api.as(users.solicitorB)('POST', '/api/matters', { reference: 'EMP-1', title: 'Employment' })).body.id;
  const admin = api.as(users.admin);
  await admin('POST', `/api/conversations/${ids.jane}/links`, { matterId: aliceMatter });
  await admin('POST', `/api/conversations/${ids.tom}/links`, { matterId: bobMatter });
  const reply = await api.as(users.solicitorA)('POST', `/api/conversations/${ids.jane}/replies`, { text: 'The survey looks fine; see you Tuesday.' });
  expect(reply.status).toBe(202);
  await waitFor(
    async () => (await api.world.bridge.store.db.selectFrom('events').select('id').where('direction', '=', 'outbound').execute()).length > 0,
    10_000,
    () => 'reply not sent',
  );
});

const hitsOf = (answer: { body: { items: Array<{ conversationId: number; direction: string }> } }) => answer.body.items.map((h) => `${h.conversationId}:${h.direction}`);

describe('search over messages', () => {
  it('finds messages by a word, newest first, with the match marked in the snippet', async () => {
    const answer = await api.as(users.admin)('GET', '/api/search?q=survey');
    expect(answer.status).toBe(200);
    expect(answer.body.items).toHaveLength(4);
    const first = answer.body.items[0];
    expect(first).toMatchObject({ conversationId: ids.jane, direction: 'outbound', matters: ['COT-1'] });
    expect(first.snippet.filter((p: { match: boolean }) => p.match).map((p: { text: string }) => p.text.toLowerCase())).toEqual(['survey']);
    expect(first.snippet.map((p: { text: string }) => p.text).join('')).toBe('The survey looks fine; see you Tuesday.');
  });

  it('matches word prefixes and requires every word', async () => {
    const admin = api.as(users.admin);
    expect(hitsOf(await admin('GET', '/api/search?q=bound'))).toEqual([`${ids.jane}:inbound`]);
    expect(hitsOf(await admin('GET', '/api/search?q=survey%20employer'))).toEqual([`${ids.tom}:inbound`]);
    // FTS5 syntax in the text is taken as words: OR is not an operator here, so nothing matches.
    expect((await admin('GET', '/api/search?q=survey%20OR%20employer')).body.items).toEqual([]);
    const punctuation = await admin('GET', '/api/search?q=%22%20*%20(');
    expect(punctuation.status).toBe(400);
    expect(punctuation.body.errors).toEqual([{ path: 'q', message: 'type at least one word (letters or digits)' }]);
  });

  it('honours the matter, client, direction and date filters', async () => {
    const admin = api.as(users.admin);
    expect(hitsOf(await admin('GET', `/api/search?q=survey&matterId=${aliceMatter}`))).toEqual([`${ids.jane}:outbound`, `${ids.jane}:inbound`, `${ids.jane}:inbound`]);
    expect(hitsOf(await admin('GET', '/api/search?q=survey&client=Tom'))).toEqual([`${ids.tom}:inbound`]);
    expect(hitsOf(await admin('GET', '/api/search?q=survey&client=900802'))).toEqual([`${ids.tom}:inbound`]);
    expect(hitsOf(await admin('GET', '/api/search?q=survey&direction=outbound'))).toEqual([`${ids.jane}:outbound`]);
    const to = new Date(Date.now() - 2 * day).toISOString();
    expect(hitsOf(await admin('GET', `/api/search?q=survey&to=${to}`))).toEqual([`${ids.jane}:inbound`]);
    const from = new Date(Date.now() - 2 * day).toISOString();
    expect((await admin('GET', `/api/search?q=survey&from=${from}`)).body.items).toHaveLength(3);
    expect((await admin('GET', `/api/search?q=survey&from=${from}&to=${to}`)).body.errors[0].path).toBe('from');
  });

  it("never shows a solicitor hits from another solicitor's matters", async () => {
    expect(hitsOf(await api.as(users.solicitorB)('GET', '/api/search?q=survey'))).toEqual([`${ids.tom}:inbound`]);
    expect((await api.as(users.solicitorB)('GET', `/api/search?q=survey&matterId=${aliceMatter}`)).body.items).toEqual([]);
  });

  it('pages with a cursor', async () => {
    const admin = api.as(users.admin);
    const first = await admin('GET', '/api/search?q=survey&limit=3');
    const second = await admin('GET', `/api/search?q=survey&limit=3&cursor=${first.body.nextCursor}`);
    expect(first.body.items).toHaveLength(3);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
  });
});

// The upgrade of an existing SQLite store; a PostgreSQL store starts with the index in place.
describe.skipIf(onPostgres)('the search index migration', () => {
  it('indexes messages stored before it ran', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const BetterSqlite3 = (await import('better-sqlite3')).default;
    const { listMigrations, openSqlite } = await import('../../bridge-server/src/store/db.js');
    const { searchMessages, toFtsQuery } = await import('../../bridge-server/src/store/search.js');
    const dir = await mkdtemp(path.join(tmpdir(), 'wab-fts-'));
    const file = path.join(dir, 'old.sqlite');
    const old = new BetterSqlite3(file);
    old.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const migration of listMigrations('sqlite').filter((m) => m.name < '0003')) {
      old.exec(migration.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, 0)').run(migration.name);
    }
    old.exec(`INSERT INTO conversations (id, tenant, channel, chat_key, chat_token, business_id, subject, opened_at, created_at)
      VALUES (1, 't', 'cloud-api', '1:447700900999', 'aaaaaaaaaaaaaaaaaaaaaaaaaa', '1', 's', 0, 0)`);
    const event = { kind: 'message', content: { type: 'image', media: { waMediaId: 'm1', mimeType: 'image/jpeg', caption: 'Photo of the damp wall' } } };
    old.prepare(`INSERT INTO events (conversation_id, seq, tenant, channel, wa_message_id, kind, direction, wa_timestamp, event_json, chain_sha256, received_at)
      VALUES (1, 1, 't', 'cloud-api', 'wamid.old', 'message', 'inbound', 1000, ?, '', 1000)`).run(JSON.stringify(event));
    old.close();
    const opened = openSqlite(file);
    try {
      expect(opened.applied).toContain('0003-matters-search');
      const hits = await searchMessages(opened.db, { match: toFtsQuery('damp')!, scope: { kind: 'all' }, limit: 10 });
      expect(hits.map((h) => h.waMessageId)).toEqual(['wamid.old']);
    } finally {
      await opened.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
