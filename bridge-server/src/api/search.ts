import express, { type Router } from 'express';
import { searchQuery, type SearchHit } from '@wa-bridge/shared/api/search';
import { conversationScope } from '../core/access.js';
import { BadInputError } from '../core/errors.js';
import { principalOf } from '../auth/middleware.js';
import { decodeCursor, encodeCursor } from '../store/scope.js';
import { searchedDocuments } from '../store/document-text.js';
import { matchEnd, matchStart, searchMessages, toFtsQuery } from '../store/search.js';
import { audit } from './audit.js';
import { parseInput, type ApiDeps } from './context.js';
import { iso } from './views.js';

/** GET /api/search: full text over the messages of conversations the user may see, with filters. */
export function searchRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const principal = principalOf(res);
    const query = parseInput(searchQuery, req.query, 'search');
    const match = toFtsQuery(query.q);
    if (!match) throw new BadInputError('bad_request', 'The search is not valid.', [{ path: 'q', message: 'type at least one word (letters or digits)' }]);
    const after = decodeCursor(query.cursor);
    if (after === 'invalid') throw new BadInputError('bad_cursor', 'The cursor is not one this API gave out; start again without it.');
    const from = query.from ? Date.parse(query.from) : undefined;
    const to = query.to ? Date.parse(query.to) : undefined;
    if (from !== undefined && to !== undefined && from > to) throw new BadInputError('bad_request', 'The search is not valid.', [{ path: 'from', message: 'must not be after "to"' }]);
    const rows = await searchMessages(deps.db, {
      match,
      scope: conversationScope(principal),
      ...(query.matterId !== undefined ? { matterId: query.matterId } : {}),
      ...(query.conversationId !== undefined ? { conversationId: query.conversationId } : {}),
      ...(query.client !== undefined ? { client: query.client } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(query.direction !== undefined ? { direction: query.direction } : {}),
      ...(after ? { after } : {}),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    // The words searched for are the user's own input, recorded so a review can see what was looked for.
    await audit(deps, req, res, {
      action: 'search',
      details: { q: query.q, hits: page.length, matterId: query.matterId ?? null, conversationId: query.conversationId ?? null, client: query.client ?? null, direction: query.direction ?? null },
    });
    const documents = await searchedDocuments(deps.db, page.map((row) => row.eventId));
    const items: SearchHit[] = page.map((row) => ({
      conversationId: row.conversationId,
      chatId: row.chatToken,
      channel: row.channel as SearchHit['channel'],
      clientName: row.clientName,
      messageId: row.eventId,
      waMessageId: row.waMessageId,
      direction: row.direction as SearchHit['direction'],
      sentAt: iso(row.timestamp),
      snippet: toSnippetParts(row.snippet),
      matters: row.matters ? [...new Set(row.matters.split('\n'))] : [],
      documents: documents.get(row.eventId) ?? [],
    }));
    res.json({ items, nextCursor: rows.length > query.limit && last ? encodeCursor(0, last.eventId) : null });
  });
  return router;
}

/** Splits FTS5's marked snippet into plain and matched pieces (the UI highlights without HTML). */
export function toSnippetParts(snippet: string): Array<{ text: string; match: boolean }> {
  const parts: Array<{ text: string; match: boolean }> = [];
  const pattern = new RegExp(`${matchStart}([^${matchEnd}]*)${matchEnd}`, 'g');
  let at = 0;
  for (const found of snippet.matchAll(pattern)) {
    if (found.index > at) parts.push({ text: snippet.slice(at, found.index), match: false });
    parts.push({ text: found[1] ?? '', match: true });
    at = found.index + found[0].length;
  }
  if (at < snippet.length) parts.push({ text: snippet.slice(at), match: false });
  return parts;
}
