import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationScope } from '../../bridge-server/src/core/access.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { searchMessages, toFtsQuery, type SearchFilter } from '../../bridge-server/src/store/search.js';
import { openTestDatabase } from '../support/test-database.js';

/**
 * The store's search against the answer worked out from the messages themselves, over an archive
 * big enough for every way the store may take: a search within a few conversations (named to the
 * index) or across many; a word on every other message, one on every fiftieth, one only in a
 * handful of the oldest messages (a search must reach back past the newest thousands), several
 * words at once, and the same through the scopes of a matter, a solicitor on a few matters and
 * one on many chats.
 */
const conversations = 70;
const messages = 12_000;
const limit = 21;

interface Stored {
  id: number;
  conversationId: number;
  timestamp: number;
  text: string;
}

let dir = '';
let opened: OpenedDatabase;
const stored: Stored[] = [];
/** matter id -> its conversation ids; and the members of each matter. */
const matterChats = new Map<number, number[]>();
const members = new Map<number, string[]>();
/** Unlinked conversations assigned to someone. */
const assigned = new Map<number, string>();

const textOf = (n: number) => {
  const words = [`filler${n % 13}`];
  if (n % 4 < 2) words.push('everywhere');
  if (n % 50 === 7) words.push('centurion');
  if (n < 2_000 && n % 449 === 3) words.push('seldomword');
  words.push(n % 3 === 0 ? 'leasehold' : 'lease');
  return words.join(' ');
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wab-store-search-'));
  opened = await openTestDatabase(dir);
  const db = opened.db;
  await db
    .insertInto('conversations')
    .values(Array.from({ length: conversations }, (_, i) => ({
      id: i + 1, tenant: 't', channel: 'cloud-api', chat_key: `1:4477${i + 1}`, chat_token: `tok${i + 1}`, business_id: '1',
      client_wa_id: `4477${i + 1}`, client_name: `Client ${i + 1}`, subject: 's', opened_at: 0, created_at: 0,
    })))
    .execute();
  const seq = new Map<number, number>();
  for (let first = 0; first < messages; first += 1_000) {
    const rows = [];
    for (let n = first; n < first + 1_000; n += 1) {
      // Chats 1-10 take half the messages; the rest share the other half.
      const conversationId = n % 2 === 0 ? 1 + ((n / 2) % 10) : 11 + (((n - 1) / 2) % (conversations - 10));
      const s = (seq.get(conversationId) ?? 0) + 1;
      seq.set(conversationId, s);
      rows.push({
        conversation_id: conversationId, seq: s, tenant: 't', channel: 'cloud-api', wa_message_id: `wamid.${n}`, kind: 'message', version_key: '',
        direction: n % 2 ? 'inbound' : 'outbound', content_type: 'text', wa_timestamp: 1_000_000 + n * 1000,
        event_json: JSON.stringify({ kind: 'message', content: { type: 'text', body: textOf(n) } }), chain_sha256: '', received_at: 0,
      });
    }
    await db.insertInto('events').values(rows).execute();
  }
  for (const row of await db.selectFrom('events').select(['id', 'conversation_id', 'wa_timestamp', 'wa_message_id']).orderBy('id').execute()) {
    const n = Number(row.wa_message_id.slice('wamid.'.length));
    stored.push({ id: Number(row.id), conversationId: Number(row.conversation_id), timestamp: Number(row.wa_timestamp), text: textOf(n) });
  }
  // Matter 1: chats 1 and 2 (Ann); matter 2: chat 3 (Ann), its link ended half-way through the
  // messages; matter 3: chats 11-69 (Bob, far more chats than are named to the index).
  const links: Array<[number, number, number | null]> = [[1, 1, null], [1, 2, null], [2, 3, 1_000_000 + (messages / 2) * 1000]];
  for (let c = 11; c < conversations; c += 1) links.push([3, c, null]);
  for (const matter of [1, 2, 3]) {
    await db.insertInto('matters').values({ id: matter, reference: `M-${matter}`, title: 'm', created_at: 0, created_by: 'x' }).execute();
    const upn = matter === 3 ? 'bob@firm.test' : 'ann@firm.test';
    await db.insertInto('matter_members').values({ matter_id: matter, upn, added_at: 0, added_by: 'x' }).execute();
    members.set(matter, [upn]);
  }
  for (const [matter, conversationId, unlinkedAt] of links) {
    await db.insertInto('matter_links').values({ matter_id: matter, conversation_id: conversationId, linked_at: 0, linked_by: 'x', unlinked_at: unlinkedAt, unlinked_by: unlinkedAt === null ? null : 'x' }).execute();
    matterChats.set(matter, [...(matterChats.get(matter) ?? []), conversationId]);
  }
  // Chat 4 is assigned to Ann before any matter exists; chat 70 to Bob.
  for (const [conversationId, upn] of [[4, 'ann@firm.test'], [70, 'bob@firm.test']] as const) {
    await db.insertInto('conversation_assignees').values({ conversation_id: conversationId, assignee: upn, assigned_at: 0, assigned_by: 'x' }).execute();
    assigned.set(conversationId, upn);
  }
}, 120_000);

afterAll(async () => {
  await opened?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const unlinkedAt = (matter: number, conversationId: number) => (matter === 2 && conversationId === 3 ? 1_000_000 + (messages / 2) * 1000 : null);

/** What the API's rules say the search should find: every word's prefix, visible, newest first. */
function expected(word: string, scope: ConversationScope, extra: { matterId?: number; afterId?: number } = {}): number[] {
  const inForce = (conversationId: number) => [...matterChats].filter(([matter, chats]) => chats.includes(conversationId) && unlinkedAt(matter, conversationId) === null).map(([matter]) => matter);
  const visible = (conversationId: number) => {
    if (scope.kind === 'all') return true;
    if (scope.kind === 'none') return false;
    const matters = inForce(conversationId);
    if (matters.some((m) => members.get(m)?.includes(scope.upn))) return true;
    return scope.assigned && matters.length === 0 && assigned.get(conversationId) === scope.upn;
  };
  const covered = (message: Stored) =>
    extra.matterId === undefined ||
    ((matterChats.get(extra.matterId) ?? []).includes(message.conversationId) &&
      (unlinkedAt(extra.matterId, message.conversationId) === null || message.timestamp < unlinkedAt(extra.matterId, message.conversationId)!));
  return stored
    .filter((m) => word.split(' ').every((part) => m.text.split(' ').some((w) => w.startsWith(part))) && visible(m.conversationId) && covered(m) && (extra.afterId === undefined || m.id < extra.afterId))
    .map((m) => m.id)
    .sort((a, b) => b - a)
    .slice(0, limit);
}

async function found(words: string, scope: ConversationScope, extra: Partial<SearchFilter> = {}): Promise<number[]> {
  const rows = await searchMessages(opened.db, { match: toFtsQuery(words)!, scope, limit, ...extra });
  return rows.map((row) => row.eventId);
}

const scopes: Array<[string, ConversationScope]> = [
  ['everyone', { kind: 'all' }],
  ['a solicitor on a few chats', { kind: 'member', upn: 'ann@firm.test', assigned: true }],
  ['a case handler on a few chats', { kind: 'member', upn: 'ann@firm.test', assigned: false }],
  ['a solicitor on many chats', { kind: 'member', upn: 'bob@firm.test', assigned: true }],
  ['someone on no matter', { kind: 'member', upn: 'nobody@firm.test', assigned: true }],
];

describe('store search at scale', () => {
  for (const [who, scope] of scopes) {
    for (const word of ['everywhere', 'centurion', 'seldomword', 'lease', 'leaseh', 'everywhere centurion', 'lease seldomword everywhere', 'leaseh fill']) {
      it(`finds "${word}" for ${who} as the rules say, newest first`, async () => {
        const want = expected(word, scope);
        expect(await found(word, scope)).toEqual(want);
      });
    }
  }

  it('finds the rarest word even when all its hits are older than the newest thousands of messages', async () => {
    const want = expected('seldomword', { kind: 'all' });
    expect(want.length).toBeGreaterThan(0);
    expect(Math.max(...want)).toBeLessThan(stored[messages - 6_000]!.id);
    expect(await found('seldomword', { kind: 'all' })).toEqual(want);
  });

  it('keeps to a matter, and to the part of a chat its ended link covered', async () => {
    for (const matterId of [1, 2, 3]) {
      for (const word of ['everywhere', 'centurion']) {
        expect(await found(word, { kind: 'all' }, { matterId })).toEqual(expected(word, { kind: 'all' }, { matterId }));
      }
    }
    const ended = await found('everywhere', { kind: 'all' }, { matterId: 2 });
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.every((id) => stored.find((m) => m.id === id)!.timestamp < unlinkedAt(2, 3)!)).toBe(true);
  });

  it('pages on from a cursor without gaps or repeats', async () => {
    for (const [, scope] of scopes.slice(0, 4)) {
      const first = await found('centurion', scope);
      if (first.length < limit) continue;
      const next = await found('centurion', scope, { after: { at: 0, id: first.at(-1)! } });
      expect(next).toEqual(expected('centurion', scope, { afterId: first.at(-1)! }));
    }
  });
});
