import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openSqlite } from '../bridge-server/src/store/db.js';
import { searchMessages, toFtsQuery } from '../bridge-server/src/store/search.js';
import { percentile } from './support/stats.js';

/**
 * Search over a firm-sized archive: conversations with messages of everyday words, a third of the
 * conversations linked to matters with two members each. Measures the cost the index trigger adds
 * to each stored event and the latency of the API's searches (all, one matter, a solicitor's scope).
 */
const words = (
  'lease contract completion survey mortgage deposit exchange signed document meeting tuesday office ' +
  'invoice payment court hearing statement witness divorce custody settlement employer dismissal ' +
  'tribunal damages insurance claim property boundary planning permission will probate estate'
).split(' ');

export async function benchSearch(options: { conversations?: number; perConversation?: number; queries?: number } = {}): Promise<object> {
  const conversations = options.conversations ?? 500;
  const perConversation = options.perConversation ?? 200;
  const queries = options.queries ?? 200;
  const dir = await mkdtemp(path.join(tmpdir(), 'wab-bench-search-'));
  const opened = openSqlite(path.join(dir, 'bench.sqlite'));
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const sentence = () => Array.from({ length: 6 + Math.floor(random() * 14) }, () => words[Math.floor(random() * words.length)]).join(' ');
  try {
    const db = opened.db;
    // Conversations go in blocks, alternately with the index trigger dropped and in place, so the
    // trigger's share of the insert cost is measured under the same machine load.
    const trigger = (await sql<{ sql: string }>`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'message_search_index'`.execute(db)).rows[0]!.sql;
    const insertMs = { with: 0, without: 0 };
    const block = 25;
    for (let first = 1; first <= conversations; first += block) {
      const indexed = Math.floor(first / block) % 2 === 1;
      if (!indexed) await sql.raw('DROP TRIGGER message_search_index').execute(db);
      const started = performance.now();
      for (let c = first; c < first + block && c <= conversations; c += 1) {
        await db.transaction().execute(async (trx) => {
          await sql`INSERT INTO conversations (id, tenant, channel, chat_key, chat_token, business_id, client_wa_id, client_name, subject, opened_at, created_at)
            VALUES (${c}, 't', 'cloud-api', ${`1:44770${c}`}, ${`t${c}`}, '1', ${`44770${c}`}, ${`Client ${c}`}, 's', 0, 0)`.execute(trx);
          for (let m = 1; m <= perConversation; m += 1) {
            const event = JSON.stringify({ kind: 'message', content: { type: 'text', body: sentence() } });
            await sql`INSERT INTO events (conversation_id, seq, tenant, channel, wa_message_id, kind, direction, wa_timestamp, event_json, chain_sha256, received_at)
              VALUES (${c}, ${m}, 't', 'cloud-api', ${`w${c}.${m}`}, 'message', ${m % 2 ? 'inbound' : 'outbound'}, ${c * 1000 + m}, ${event}, '', 0)`.execute(trx);
          }
        });
      }
      insertMs[indexed ? 'with' : 'without'] += performance.now() - started;
      if (!indexed) {
        // Put the trigger back and index the block afterwards, as the migration does for old rows.
        await sql.raw(trigger).execute(db);
        await sql`INSERT INTO message_search (rowid, body) SELECT id, json_extract(event_json, '$.content.body') FROM events WHERE conversation_id >= ${first} AND conversation_id < ${first + block}`.execute(db);
      }
    }
    for (let m = 1; m <= conversations / 3; m += 1) {
      await sql`INSERT INTO matters (id, reference, title, created_at, created_by) VALUES (${m}, ${`M-${m}`}, 'm', 0, 'x')`.execute(db);
      await sql`INSERT INTO matter_members (matter_id, upn, added_at, added_by) VALUES (${m}, ${`sol${m % 20}@firm.test`}, 0, 'x'), (${m}, ${`ch${m % 7}@firm.test`}, 0, 'x')`.execute(db);
      await sql`INSERT INTO matter_links (conversation_id, matter_id, linked_at, linked_by) VALUES (${m * 3}, ${m}, 0, 'x')`.execute(db);
    }
    const time = async (run: (i: number) => Promise<unknown>) => {
      const sample: number[] = [];
      for (let i = 0; i < queries; i += 1) {
        const started = performance.now();
        await run(i);
        sample.push(performance.now() - started);
      }
      return { p50: round(percentile(sample, 50)), p95: round(percentile(sample, 95)) };
    };
    const term = (i: number) => toFtsQuery(words[i % words.length]!)!;
    const all = await time((i) => searchMessages(db, { match: term(i), scope: { kind: 'all' }, limit: 21 }));
    const twoWords = await time((i) => searchMessages(db, { match: toFtsQuery(`${words[i % words.length]} ${words[(i * 7 + 3) % words.length]}`)!, scope: { kind: 'all' }, limit: 21 }));
    const matter = await time((i) => searchMessages(db, { match: term(i), scope: { kind: 'all' }, matterId: 1 + (i % Math.floor(conversations / 3)), limit: 21 }));
    const solicitor = await time((i) => searchMessages(db, { match: term(i), scope: { kind: 'member', upn: `sol${i % 20}@firm.test`, assigned: true }, limit: 21 }));
    const events = conversations * perConversation;
    return {
      events,
      store_events_per_s_with_index: Math.round(events / 2 / (insertMs.with / 1000)),
      store_events_per_s_without_index: Math.round(events / 2 / (insertMs.without / 1000)),
      search_all_p50_ms: all.p50,
      search_all_p95_ms: all.p95,
      search_two_words_p50_ms: twoWords.p50,
      search_two_words_p95_ms: twoWords.p95,
      search_one_matter_p50_ms: matter.p50,
      search_one_matter_p95_ms: matter.p95,
      search_solicitor_scope_p50_ms: solicitor.p50,
      search_solicitor_scope_p95_ms: solicitor.p95,
    };
  } finally {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
