import { sql, type RawBuilder } from 'kysely';
import type { ConversationScope } from '../core/access.js';
import type { Executor } from './executor.js';
import { dialectOf, groupConcat } from './dialect.js';
import { visibleConversationSql } from './scope.js';

export interface SearchFilter {
  /** An FTS5 query (build it with toFtsQuery). */
  match: string;
  scope: ConversationScope;
  matterId?: number;
  conversationId?: number;
  client?: string;
  from?: number;
  to?: number;
  direction?: 'inbound' | 'outbound';
  after?: { at: number; id: number };
  limit: number;
}

export interface SearchRow {
  eventId: number;
  conversationId: number;
  chatToken: string;
  channel: string;
  clientName: string | null;
  waMessageId: string;
  direction: string;
  timestamp: number;
  /** Snippet text with matches between \u0002 and \u0003. */
  snippet: string;
  /** References of matters whose link covers the message (in force, or ended after it). */
  matters: string | null;
}

export const matchStart = '\u0002';
export const matchEnd = '\u0003';

/**
 * Each word of the user's text as a quoted FTS5 prefix term, all required. Quoting keeps FTS5
 * operators and punctuation in the text from being read as query syntax. Undefined when the
 * text has no word at all.
 */
export function toFtsQuery(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}_]+/gu) ?? [];
  if (words.length === 0) return undefined;
  return words.slice(0, 20).map((word) => `"${word}"*`).join(' ');
}

/**
 * A scope of at most this many conversations is named to the index, which then reads only their
 * messages' hits; a wider one is checked hit by hit, newest first, which is quick when the scope
 * holds a fair share of the archive.
 */
const namedConversationsMax = 50;

/**
 * The conversations a search can find anything in, when the filter or the scope narrows them to
 * a few: a superset of what the scope lets the user see (the query's own conditions decide that).
 * Undefined when there are too many to name.
 */
async function fewConversations(db: Executor, filter: SearchFilter, max = namedConversationsMax): Promise<number[] | undefined> {
  if (filter.conversationId !== undefined) return [filter.conversationId];
  let query;
  if (filter.matterId !== undefined) {
    query = sql<{ id: number }>`SELECT DISTINCT conversation_id AS id FROM matter_links WHERE matter_id = ${filter.matterId}`;
  } else if (filter.scope.kind === 'member') {
    const onMatters = sql`SELECT l.conversation_id AS id FROM matter_links l JOIN matter_members m ON m.matter_id = l.matter_id
      WHERE m.upn = ${filter.scope.upn} AND l.unlinked_at IS NULL`;
    query = filter.scope.assigned
      ? sql<{ id: number }>`${onMatters} UNION SELECT conversation_id AS id FROM conversation_assignees WHERE assignee = ${filter.scope.upn}`
      : sql<{ id: number }>`${onMatters}`;
  } else {
    return undefined;
  }
  const rows = (await sql<{ id: number }>`SELECT id FROM (${query}) few LIMIT ${max + 1}`.execute(db)).rows;
  return rows.length > max ? undefined : rows.map((row) => Number(row.id));
}

/**
 * Messages whose text matches, newest first, in conversations the scope allows. A matter covers a
 * conversation's messages up to the end of its link (all of them while the link is in force).
 * "Newest" is the order the bridge stored them (the event id, which is the index's rowid): FTS5
 * walks its rowids in that order, so a page stops after `limit` hits instead of sorting every
 * match, and snippets are built only for the rows returned. When the search is within a few
 * conversations, the index is asked for their messages only (its conversation column), so hits
 * elsewhere are skipped inside the index rather than read and refused one at a time.
 */
export async function searchMessages(db: Executor, filter: SearchFilter): Promise<SearchRow[]> {
  if (filter.scope.kind === 'none') return [];
  const conditions = [visibleConversationSql(filter.scope, sql.ref('e.conversation_id'))];
  const covers = (alias: string) => sql`${sql.raw(alias)}.conversation_id = e.conversation_id AND (${sql.raw(alias)}.unlinked_at IS NULL OR e.wa_timestamp < ${sql.raw(alias)}.unlinked_at)`;
  if (filter.matterId !== undefined) conditions.push(sql<boolean>`EXISTS (SELECT 1 FROM matter_links fm WHERE ${covers('fm')} AND fm.matter_id = ${filter.matterId})`);
  if (filter.conversationId !== undefined) conditions.push(sql<boolean>`e.conversation_id = ${filter.conversationId}`);
  if (filter.client !== undefined) {
    const like = `%${filter.client.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const digits = filter.client.replace(/\D/g, '');
    conditions.push(
      digits.length >= 3
        ? sql<boolean>`(lower(c.client_name) LIKE lower(${like}) ESCAPE '\\' OR c.client_wa_id LIKE ${`%${digits}%`})`
        : sql<boolean>`lower(c.client_name) LIKE lower(${like}) ESCAPE '\\'`,
    );
  }
  if (filter.from !== undefined) conditions.push(sql<boolean>`e.wa_timestamp >= ${filter.from}`);
  if (filter.to !== undefined) conditions.push(sql<boolean>`e.wa_timestamp <= ${filter.to}`);
  if (filter.direction !== undefined) conditions.push(sql<boolean>`e.direction = ${filter.direction}`);
  if (filter.after) conditions.push(sql<boolean>`message_search.rowid < ${filter.after.id}`);
  const postgres = dialectOf(db) === 'postgres';
  const query = postgres ? sql`to_tsquery('simple', unaccent(${toTsQueryText(filter.match)}))` : undefined;
  const snippet = query
    ? // Short texts whole, as FTS5's snippet gives them; longer ones cut around the match.
      sql`CASE WHEN length(message_search.body) <= 120
        THEN ts_headline('simple', message_search.body, ${query}, ${`StartSel=${matchStart}, StopSel=${matchEnd}, HighlightAll=true`})
        ELSE ts_headline('simple', message_search.body, ${query}, ${`StartSel=${matchStart}, StopSel=${matchEnd}, MaxWords=16, MinWords=6, ShortWord=1`}) END`
    : sql`snippet(message_search, 0, ${matchStart}, ${matchEnd}, '…', 16)`;
  const where = sql.join(conditions, sql` AND `);
  const row = sql`e.id AS "eventId", e.conversation_id AS "conversationId", c.chat_token AS "chatToken", c.channel AS channel,
      c.client_name AS "clientName", e.wa_message_id AS "waMessageId", e.direction AS direction, e.wa_timestamp AS timestamp,
      ${snippet} AS snippet,
      (SELECT ${groupConcat(db, sql`m.reference`, '\n')} FROM matter_links hm JOIN matters m ON m.id = hm.matter_id WHERE ${covers('hm')}) AS matters`;
  // PostgreSQL also checks a wide search's hits against a longer list of the scope's conversations.
  const listed = await fewConversations(db, filter, query ? widePrefilterMax : namedConversationsMax);
  if (listed?.length === 0) return [];
  const few = listed && listed.length <= namedConversationsMax ? listed : undefined;
  if (!query) {
    const within = few ? ` AND conversation : (${few.map((id) => `"${id}"`).join(' OR ')})` : '';
    const result = await sql<SearchRow>`
      SELECT ${row}
      FROM message_search
      JOIN events e ON e.id = message_search.rowid
      JOIN conversations c ON c.id = e.conversation_id
      WHERE message_search MATCH ${`body : (${filter.match})${within}`} AND ${where}
      ORDER BY message_search.rowid DESC
      LIMIT ${filter.limit}`.execute(db);
    return result.rows;
  }
  // PostgreSQL: first the page's event ids, then their rows and headlines (for those alone).
  const ids = few
    ? await pagePostgresFew(db, few, query, where, filter.limit)
    : await pagePostgresWide(db, query, where, filter, listed, toTsQueryText(filter.match).split(' & '));
  if (ids.length === 0) return [];
  const result = await sql<SearchRow>`
    SELECT ${row}
    FROM message_search
    JOIN events e ON e.id = message_search.rowid
    JOIN conversations c ON c.id = e.conversation_id
    WHERE message_search.rowid = ANY (${ids}::bigint[])
    ORDER BY message_search.rowid DESC`.execute(db);
  return result.rows;
}

/**
 * Within a few conversations: each one's indexed messages newest first (by the index on
 * conversation and id), stopping after a page, and the pages merged.
 */
async function pagePostgresFew(db: Executor, few: number[], query: RawBuilder<unknown>, where: RawBuilder<unknown>, limit: number): Promise<number[]> {
  const rows = await sql<{ rowid: number }>`
    SELECT hit.rowid FROM unnest(${few}::bigint[]) AS few (id) CROSS JOIN LATERAL (
      SELECT message_search.rowid FROM message_search
      JOIN events e ON e.id = message_search.rowid
      JOIN conversations c ON c.id = e.conversation_id
      WHERE message_search.conversation_id = few.id AND message_search.document @@ ${query} AND ${where}
      ORDER BY message_search.rowid DESC
      LIMIT ${limit}) hit
    ORDER BY hit.rowid DESC
    LIMIT ${limit}`.execute(db);
  return rows.rows.map((row) => Number(row.rowid));
}

/** A wide search lists the scope's conversations up to this many, to check hits against. */
const widePrefilterMax = 2000;

/** The first span of event ids a wide search reads, newest first. */
const firstSpan = 2_000;
/** A span up to this long is read row by row; a longer one collects its hits through the index. */
const walkSpanMax = 10_000;

/**
 * Over many conversations: span by span backwards from the newest message, until a page is full.
 * The first span is read newest first, which finds a page of a word that is in a fair share of
 * the user's messages after a few rows. The hits found so far tell how dense they are; the next
 * span is sized to fill the page twice over (to the start when there were none), and its hits are
 * collected through the text index together with its id range, then sorted. So a common word
 * costs a few rows, and a rare one (rare among what the user may see) one collection of its few
 * hits. Left to itself, the planner may read the whole archive newest first for a rare word (it
 * cannot tell how few hits the scope lets through), or collect and sort every hit of a common
 * one. Each hit's event is looked up on its own, never merged with a walk over all events.
 */
async function pagePostgresWide(
  db: Executor,
  query: RawBuilder<unknown>,
  where: RawBuilder<unknown>,
  filter: SearchFilter,
  within: number[] | undefined,
  terms: string[],
): Promise<number[]> {
  // The scope's conversations, when listed, refuse most hits by the search table's own column
  // before any event is looked up.
  const inScope = within ? sql`message_search.conversation_id = ANY (${within}::bigint[])` : sql`1 = 1`;
  // Walking: the match as a function call, which no index serves, so the span is read newest
  // first and stops at a full page. Collecting: the text index finds the hits of one word (the
  // one seen least in the newest span), the whole match is checked on those, and the order
  // "rowid + 0" sorts what was collected rather than reading in index order. (Given all words,
  // the index would read every hit of each common one first, whatever the span.)
  let collectBy = query;
  const hits = async (range: RawBuilder<unknown>, walk: boolean, limit: number) =>
    (
      await sql<{ rowid: number }>`
        SELECT message_search.rowid FROM message_search
        CROSS JOIN LATERAL (SELECT * FROM events WHERE events.id = message_search.rowid OFFSET 0) e
        JOIN conversations c ON c.id = e.conversation_id
        WHERE ${walk ? sql`1 = 1` : sql`message_search.document @@ ${collectBy}`} AND ts_match_vq(message_search.document, ${query})
          AND ${range} AND ${inScope} AND ${where}
        ORDER BY ${walk ? sql`message_search.rowid` : sql`message_search.rowid + 0`} DESC
        LIMIT ${limit}`.execute(db)
    ).rows.map((row) => Number(row.rowid));
  const rarest = async (range: RawBuilder<unknown>) => {
    const counts = sql.join(terms.map((term) => sql`count(*) FILTER (WHERE ts_match_vq(document, to_tsquery('simple', unaccent(${term}))))`));
    const row = (await sql<{ counts: number[] }>`SELECT ARRAY[${counts}] AS counts FROM message_search WHERE ${range}`.execute(db)).rows[0];
    const seen = (row?.counts ?? []).map(Number);
    // Fewest seen; between equals, the longest word (long words are the rarer ones).
    const order = terms.map((term, i) => ({ term, seen: seen[i] ?? 0 })).sort((a, b) => a.seen - b.seen || b.term.length - a.term.length);
    return sql`to_tsquery('simple', unaccent(${order[0]!.term}))`;
  };
  const newest = filter.after
    ? filter.after.id - 1
    : Number((await sql<{ top: number | null }>`SELECT max(rowid) AS top FROM message_search`.execute(db)).rows[0]?.top ?? 0);
  const found: number[] = [];
  let high = newest;
  let span = firstSpan;
  while (high > 0) {
    const low = high - span;
    const range = low > 0 ? sql`message_search.rowid > ${low} AND message_search.rowid <= ${high}` : sql`message_search.rowid <= ${high}`;
    found.push(...(await hits(range, span <= walkSpanMax, filter.limit - found.length)));
    if (found.length >= filter.limit) break;
    if (span === firstSpan && terms.length > 1) collectBy = await rarest(range);
    high = low;
    span = found.length === 0 ? Infinity : Math.ceil((3 * (filter.limit - found.length) * (newest - high)) / found.length);
  }
  return found;
}

/**
 * The same query for PostgreSQL's text search: each quoted FTS5 prefix term of toFtsQuery as a
 * quoted tsquery prefix term, all required.
 */
export function toTsQueryText(match: string): string {
  const terms = [...match.matchAll(/"((?:[^"]|"")*)"\*/g)].map((m) => m[1]!.replace(/""/g, '"'));
  return terms.map((term) => `'${term.replace(/\\/g, '').replace(/'/g, "''")}':*`).join(' & ');
}
