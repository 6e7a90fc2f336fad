import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { ConversationScope } from '../bridge-server/src/core/access.js';
import { openDatabase, type OpenedDatabase } from '../bridge-server/src/store/db.js';
import type { Database } from '../bridge-server/src/store/schema.js';
import { searchMessages, toFtsQuery, type SearchFilter } from '../bridge-server/src/store/search.js';
import { makeCorpus, seededRandom, type Corpus } from './support/search-corpus.js';
import { percentile } from './support/stats.js';
import pg from 'pg';
import { databaseUrl, withAdmin } from './support/postgres.js';

/**
 * Search over a firm's archive of a million messages: chats of very different sizes whose messages
 * arrive interleaved over time, text with real word frequencies (support/search-corpus.ts), a third
 * of the chats linked to matters with a solicitor and a case handler each, and unlinked chats
 * assigned to solicitors. Times the API's own search (searchMessages with the scopes and the page
 * size the API passes) for each kind of query people type: one ordinary word, two words, a rare
 * word, a few words remembered from a message; in all chats, in one matter, in a solicitor's
 * scope; and the same with a very common word, which is in a large share of all messages.
 * `p95_ms` is the worst 95th percentile of the ordinary classes, `p95_any_query_ms` the worst of
 * all of them, common words included; each class has its own p50, p95 and max.
 */
export interface SearchBenchOptions {
  messages?: number;
  conversations?: number;
  /** Timed queries per query class. */
  queries?: number;
  database?: 'sqlite' | 'postgres';
}


/** The API's default page: 20 hits and one more to know whether there is a next page. */
const PAGE = 21;
const SOLICITORS = 20;
const HANDLERS = 7;

export interface Filled {
  /** How many messages contain each vocabulary word (by its index). */
  messagesWith: Int32Array;
  /** Texts of some stored messages, for queries of words remembered from a message. */
  remembered: string[];
  matters: number;
  /** Insert rates measured on a sample of the fill (SQLite only). */
  insertRates?: { with: number; without: number };
}

export async function benchSearch(options: SearchBenchOptions = {}): Promise<object> {
  const messages = options.messages ?? 1_000_000;
  const conversations = options.conversations ?? Math.max(3, Math.round(messages / 200));
  const queries = options.queries ?? 100;
  const engine = options.database ?? 'sqlite';
  const dir = await mkdtemp(path.join(tmpdir(), 'wab-bench-search-'));
  const pgName = `wab_bench_search_${process.pid}_${Date.now()}`;
  let opened: OpenedDatabase | undefined;
  try {
    const fillStarted = performance.now();
    const corpus = makeCorpus();
    let filled: Filled;
    if (engine === 'postgres') {
      await withAdmin((client) => client.query(`CREATE DATABASE ${pgName}`));
      const url = databaseUrl(pgName);
      opened = await openDatabase({ kind: 'postgres', url });
      filled = await fillPostgres(url, corpus, messages, conversations);
    } else {
      const file = path.join(dir, 'bench.sqlite');
      opened = await openDatabase({ kind: 'sqlite', file });
      filled = fillSqlite(file, corpus, messages, conversations);
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const result = await measure(opened.db, corpus, filled, messages, queries);
    return {
      engine,
      messages,
      conversations,
      matters: filled.matters,
      ...result,
      ...(filled.insertRates
        ? { store_events_per_s_with_index: filled.insertRates.with, store_events_per_s_without_index: filled.insertRates.without }
        : {}),
      fill_s: Math.round(fillSeconds),
      load_average_1m: Math.round(loadavg()[0]! * 100) / 100,
    };
  } finally {
    await opened?.close();
    await rm(dir, { recursive: true, force: true });
    if (engine === 'postgres') await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`));
  }
}


interface EventRow {
  id: number;
  conversationId: number;
  seq: number;
  waMessageId: string;
  direction: string;
  timestamp: number;
  json: string;
}

/**
 * The archive's messages in the order they arrive: each goes to a chat drawn so that a few chats
 * are busy (the busiest has over a percent of all messages) and most are small, a minute or so
 * apart over about two years.
 */
export function* arrivals(corpus: Corpus, messages: number, conversations: number, filled: Filled): Generator<EventRow> {
  const random = seededRandom(42);
  const lastSeq = new Int32Array(conversations + 1);
  const lastSeen = new Int32Array(corpus.words.length).fill(-1);
  const rememberEvery = Math.max(1, Math.floor(messages / 500));
  for (let id = 1; id <= messages; id += 1) {
    const conversationId = 1 + Math.floor(conversations * random() ** 2);
    const seq = lastSeq[conversationId]! + 1;
    lastSeq[conversationId] = seq;
    const message = corpus.message();
    for (const word of message.words) {
      if (lastSeen[word] !== id) filled.messagesWith[word] = filled.messagesWith[word]! + 1;
      lastSeen[word] = id;
    }
    if (id % rememberEvery === 0) filled.remembered.push(message.text);
    yield {
      id,
      conversationId,
      seq,
      waMessageId: `wamid.${id}`,
      direction: seq % 2 ? 'inbound' : 'outbound',
      timestamp: 1_700_000_000_000 + id * 60_000,
      json: JSON.stringify({ kind: 'message', content: { type: 'text', body: message.text } }),
    };
  }
}

/** Matter m is linked to conversation 3m; its members are a solicitor and a case handler. */
const matterCount = (conversations: number) => Math.floor(conversations / 3);
const solicitorOf = (matter: number) => `sol${matter % SOLICITORS}@firm.test`;

export function fillSqlite(file: string, corpus: Corpus, messages: number, conversations: number): Filled {
  const filled: Filled = { messagesWith: new Int32Array(corpus.words.length), remembered: [], matters: matterCount(conversations) };
  const db = new BetterSqlite3(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    const addConversation = db.prepare(`INSERT INTO conversations (id, tenant, channel, chat_key, chat_token, business_id, client_wa_id, client_name, subject, opened_at, created_at)
      VALUES (?, 't', 'cloud-api', ?, ?, '1', ?, ?, 's', 0, 0)`);
    const addEvent = db.prepare(`INSERT INTO events (id, conversation_id, seq, tenant, channel, wa_message_id, kind, direction, content_type, wa_timestamp, event_json, chain_sha256, received_at)
      VALUES (?, ?, ?, 't', 'cloud-api', ?, 'message', ?, 'text', ?, ?, '', 0)`);
    db.transaction(() => {
      for (let c = 1; c <= conversations; c += 1) addConversation.run(c, `1:44770${c}`, `t${c}`, `44770${c}`, `Client ${c}`);
    })();
    const trigger = (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'message_search_index'`).get() as { sql: string }).sql;
    const indexFrom = db.prepare(
      `INSERT INTO message_search (rowid, body, conversation) SELECT id, json_extract(event_json, '$.content.body'), CAST(conversation_id AS TEXT) FROM events WHERE id >= ?`,
    );
    const rows = arrivals(corpus, messages, conversations, filled);
    // A sample of the fill goes in blocks of small transactions, alternately with the index trigger
    // dropped and in place, so the trigger's share of the cost of storing an event is measured
    // under the same machine load; the rest goes in without it and is indexed at the end, as the
    // migration indexes old rows.
    const sample = Math.min(messages, 40_000);
    const block = 5_000;
    const spent = { with: 0, without: 0 };
    let stored = 0;
    const store = (count: number) => {
      for (let done = 0; done < count; done += 200) {
        db.transaction(() => {
          for (let i = 0; i < 200 && done + i < count; i += 1) {
            const row = rows.next().value as EventRow;
            addEvent.run(row.id, row.conversationId, row.seq, row.waMessageId, row.direction, row.timestamp, row.json);
          }
        })();
      }
      stored += count;
    };
    for (let first = 0; first < sample; first += block) {
      const indexed = (first / block) % 2 === 1;
      if (!indexed) db.exec('DROP TRIGGER message_search_index');
      const count = Math.min(block, sample - first);
      const started = performance.now();
      store(count);
      spent[indexed ? 'with' : 'without'] += performance.now() - started;
      if (!indexed) {
        db.exec(trigger);
        indexFrom.run(stored - count + 1);
      }
    }
    const sampled = stored;
    db.exec('DROP TRIGGER message_search_index');
    db.transaction(() => {
      for (let row = rows.next(); !row.done; row = rows.next()) {
        const e = row.value;
        addEvent.run(e.id, e.conversationId, e.seq, e.waMessageId, e.direction, e.timestamp, e.json);
      }
    })();
    db.transaction(() => {
      db.exec(trigger);
      indexFrom.run(sampled + 1);
    })();
    db.exec('UPDATE conversations SET last_seq = (SELECT max(seq) FROM events WHERE conversation_id = conversations.id)');
    db.transaction(() => {
      for (const [text, params] of linkStatements(filled.matters, conversations)) db.prepare(text).run(...params);
    })();
    // What the bridge's own periodic upkeep leaves: planner statistics.
    db.exec('ANALYZE');
    const half = sampled / 2;
    filled.insertRates = { with: Math.round(half / (spent.with / 1000)), without: Math.round(half / (spent.without / 1000)) };
    return filled;
  } finally {
    db.close();
  }
}

/** The statements that make the matters, their members and links, and the assignees. */
function linkStatements(matters: number, conversations: number): Array<[string, unknown[]]> {
  const statements: Array<[string, unknown[]]> = [];
  for (let m = 1; m <= matters; m += 1) {
    statements.push([`INSERT INTO matters (id, reference, title, created_at, created_by) VALUES (?, ?, 'm', 0, 'x')`, [m, `M-${m}`]]);
    statements.push([`INSERT INTO matter_members (matter_id, upn, added_at, added_by) VALUES (?, ?, 0, 'x'), (?, ?, 0, 'x')`, [m, solicitorOf(m), m, `ch${m % HANDLERS}@firm.test`]]);
    statements.push([`INSERT INTO matter_links (conversation_id, matter_id, linked_at, linked_by) VALUES (?, ?, 0, 'x')`, [m * 3, m]]);
  }
  // Half of the unlinked chats are assigned to a solicitor before any matter exists.
  for (let c = 1; c <= conversations; c += 3) {
    if (c % 2 === 1) statements.push([`INSERT INTO conversation_assignees (conversation_id, assignee, assigned_at, assigned_by) VALUES (?, ?, 0, 'x')`, [c, `sol${c % SOLICITORS}@firm.test`]]);
  }
  return statements;
}

export async function fillPostgres(url: string, corpus: Corpus, messages: number, conversations: number): Promise<Filled> {
  const filled: Filled = { messagesWith: new Int32Array(corpus.words.length), remembered: [], matters: matterCount(conversations) };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const ids = Array.from({ length: conversations }, (_, i) => i + 1);
    await client.query(
      `INSERT INTO conversations (id, tenant, channel, chat_key, chat_token, business_id, client_wa_id, client_name, subject, opened_at, created_at)
       SELECT id, 't', 'cloud-api', '1:44770' || id, 't' || id, '1', '44770' || id, 'Client ' || id, 's', 0, 0 FROM unnest($1::bigint[]) AS id`,
      [ids],
    );
    // The index trigger stays in place (it is what indexes every stored message); the text search
    // indexes are built once at the end rather than grown a row at a time, as a restore would.
    const indexes = (await client.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'message_search' AND indexname NOT LIKE '%_pkey'`,
    )).rows;
    for (const index of indexes) await client.query(`DROP INDEX ${index.indexname}`);
    const rows = arrivals(corpus, messages, conversations, filled);
    const batch = 5_000;
    for (let done = 0; done < messages; done += batch) {
      const columns: { id: number[]; conversation: number[]; seq: number[]; wamid: string[]; direction: string[]; at: number[]; json: string[] } = {
        id: [], conversation: [], seq: [], wamid: [], direction: [], at: [], json: [],
      };
      for (let i = 0; i < batch && done + i < messages; i += 1) {
        const e = rows.next().value as EventRow;
        columns.id.push(e.id);
        columns.conversation.push(e.conversationId);
        columns.seq.push(e.seq);
        columns.wamid.push(e.waMessageId);
        columns.direction.push(e.direction);
        columns.at.push(e.timestamp);
        columns.json.push(e.json);
      }
      await client.query(
        `INSERT INTO events (id, conversation_id, seq, tenant, channel, wa_message_id, kind, direction, content_type, wa_timestamp, event_json, chain_sha256, received_at)
         SELECT id, c, s, 't', 'cloud-api', w, 'message', d, 'text', a, j, '', 0
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[]) AS r (id, c, s, w, d, a, j)`,
        [columns.id, columns.conversation, columns.seq, columns.wamid, columns.direction, columns.at, columns.json],
      );
    }
    await client.query(`SELECT setval(pg_get_serial_sequence('events', 'id'), $1)`, [messages]);
    await client.query(`SET maintenance_work_mem = '256MB'`);
    for (const index of indexes) await client.query(index.indexdef);
    await client.query('UPDATE conversations SET last_seq = (SELECT max(seq) FROM events WHERE conversation_id = conversations.id)');
    await client.query('BEGIN');
    for (const [text, params] of linkStatements(filled.matters, conversations)) {
      let n = 0;
      await client.query(text.replace(/\?/g, () => `$${++n}`), params);
    }
    await client.query(`SELECT setval(pg_get_serial_sequence('matter_links', 'id'), (SELECT max(id) FROM matter_links))`);
    await client.query('COMMIT');
    // What autovacuum does on a live database: planner statistics and an all-visible heap.
    await client.query('VACUUM ANALYZE');
    return filled;
  } finally {
    await client.end();
  }
}

interface ClassTiming {
  p50: number;
  p95: number;
  max: number;
}

/** Times each query class over a filled store (`only`: just the classes whose name contains it). */
export async function measure(db: Kysely<Database>, corpus: Corpus, filled: Filled, messages: number, queries: number, only?: string): Promise<Record<string, unknown>> {
  const share = (word: number) => filled.messagesWith[word]! / messages;
  const indexes = corpus.words.map((_, i) => i);
  // Very common: in a fifth of all messages or more (the first few words of the vocabulary).
  const common = indexes.filter((i) => share(i) >= 0.2);
  // Ordinary: everything else that is in at least a hundred messages, from a few percent down,
  // picked evenly over the range of frequencies; rare: in fewer (a name, a street, a typo).
  const ordinaryPool = indexes.filter((i) => share(i) < 0.2 && filled.messagesWith[i]! >= Math.max(2, messages / 10_000));
  const rarePool = indexes.filter((i) => filled.messagesWith[i]! > 0 && filled.messagesWith[i]! < Math.max(2, messages / 10_000));
  // Evenly over the logarithm of the rank, so as many words from a few percent as from a few
  // hundredths of a percent.
  const spread = (pool: number[], n: number) =>
    [...new Set(Array.from({ length: n }, (_, k) => pool[Math.min(pool.length - 1, Math.floor(pool.length ** (k / n)) - 1)]!))];
  const ordinary = spread(ordinaryPool, 60);
  const rare = spread(rarePool, 30);
  const word = (list: number[], i: number) => corpus.words[list[i % list.length]!]!;
  const random = seededRandom(99);
  const remembered = filled.remembered.map((text) => {
    const words = text.split(' ');
    const start = Math.floor(random() * Math.max(1, words.length - 2));
    return words.slice(start, start + 3).join(' ');
  });
  const all: ConversationScope = { kind: 'all' };
  const solicitor = (i: number): ConversationScope => ({ kind: 'member', upn: `sol${i % SOLICITORS}@firm.test`, assigned: true });
  const matter = (i: number) => 1 + ((i * 37) % filled.matters);
  const search = (text: string, scope: ConversationScope, extra: Partial<SearchFilter> = {}) =>
    searchMessages(db, { match: toFtsQuery(text)!, scope, limit: PAGE, ...extra });
  const classes: Record<string, { ordinary: boolean; run: (i: number) => Promise<unknown> }> = {
    all: { ordinary: true, run: (i) => search(word(ordinary, i), all) },
    two_words: { ordinary: true, run: (i) => search(`${word(ordinary, i)} ${word(ordinary, i * 7 + 3)}`, all) },
    rare_word: { ordinary: true, run: (i) => search(word(rare, i), all) },
    phrase: { ordinary: true, run: (i) => search(remembered[i % remembered.length]!, all) },
    one_matter: { ordinary: true, run: (i) => search(word(ordinary, i), solicitor(matter(i)), { matterId: matter(i) }) },
    solicitor_scope: { ordinary: true, run: (i) => search(word(ordinary, i), solicitor(i)) },
    solicitor_rare_word: { ordinary: true, run: (i) => search(word(rare, i), solicitor(i)) },
    common_word_all: { ordinary: false, run: (i) => search(word(common, i), all) },
    common_word_two_words: { ordinary: false, run: (i) => search(`${word(common, i)} ${word(common, i + 1)}`, all) },
    common_word_one_matter: { ordinary: false, run: (i) => search(word(common, i), solicitor(matter(i)), { matterId: matter(i) }) },
    common_word_solicitor_scope: { ordinary: false, run: (i) => search(word(common, i), solicitor(i)) },
  };
  const timings: Record<string, ClassTiming> = {};
  for (const [name, { run }] of Object.entries(classes)) {
    if (only && !name.includes(only)) continue;
    for (let i = 0; i < 3; i += 1) await run(queries + i);
    const sample: number[] = [];
    for (let i = 0; i < queries; i += 1) {
      const started = performance.now();
      await run(i);
      sample.push(performance.now() - started);
    }
    timings[name] = { p50: round(percentile(sample, 50)), p95: round(percentile(sample, 95)), max: round(Math.max(...sample)) };
  }
  const worst = (ordinaryOnly: boolean) =>
    Math.max(...Object.entries(classes).filter(([name, c]) => timings[name] && (c.ordinary || !ordinaryOnly)).map(([name]) => timings[name]!.p95));
  const detail: Record<string, number> = {};
  for (const [name, t] of Object.entries(timings)) {
    detail[`${name}_p50_ms`] = t.p50;
    detail[`${name}_p95_ms`] = t.p95;
    detail[`${name}_max_ms`] = t.max;
  }
  return {
    p95_ms: worst(true),
    p95_any_query_ms: worst(false),
    ...detail,
    common_words: common.map((i) => `${corpus.words[i]} ${Math.round(share(i) * 100)}%`).join(', '),
    ordinary_word_share_pct: `${round(share(ordinary.at(-1)!) * 100)}..${round(share(ordinary[0]!) * 100)}`,
    queries_per_class: queries,
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
