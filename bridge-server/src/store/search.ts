import { sql } from 'kysely';
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
async function fewConversations(db: Executor, filter: SearchFilter): Promise<number[] | undefined> {
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
  const rows = (await sql<{ id: number }>`SELECT id FROM (${query}) few LIMIT ${namedConversationsMax + 1}`.execute(db)).rows;
  return rows.length > namedConversationsMax ? undefined : rows.map((row) => Number(row.id));
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
  let matches;
  if (query) {
    matches = sql`message_search.document @@ ${query}`;
  } else {
    const few = await fewConversations(db, filter);
    if (few?.length === 0) return [];
    const within = few ? ` AND conversation : (${few.map((id) => `"${id}"`).join(' OR ')})` : '';
    matches = sql`message_search MATCH ${`body : (${filter.match})${within}`}`;
  }
  const result = await sql<SearchRow>`
    SELECT e.id AS "eventId", e.conversation_id AS "conversationId", c.chat_token AS "chatToken", c.channel AS channel,
      c.client_name AS "clientName", e.wa_message_id AS "waMessageId", e.direction AS direction, e.wa_timestamp AS timestamp,
      ${snippet} AS snippet,
      (SELECT ${groupConcat(db, sql`m.reference`, '\n')} FROM matter_links hm JOIN matters m ON m.id = hm.matter_id WHERE ${covers('hm')}) AS matters
    FROM message_search
    JOIN events e ON e.id = message_search.rowid
    JOIN conversations c ON c.id = e.conversation_id
    WHERE ${matches} AND ${sql.join(conditions, sql` AND `)}
    ORDER BY message_search.rowid DESC
    LIMIT ${filter.limit}`.execute(db);
  return result.rows;
}

/**
 * The same query for PostgreSQL's text search: each quoted FTS5 prefix term of toFtsQuery as a
 * quoted tsquery prefix term, all required.
 */
export function toTsQueryText(match: string): string {
  const terms = [...match.matchAll(/"((?:[^"]|"")*)"\*/g)].map((m) => m[1]!.replace(/""/g, '"'));
  return terms.map((term) => `'${term.replace(/\\/g, '').replace(/'/g, "''")}':*`).join(' & ');
}
