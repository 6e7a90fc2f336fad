import express, { type Router } from 'express';
import { assignSchema, listConversationsQuery, listMessagesQuery } from '@wa-bridge/shared/api/conversations';
import { conversationScope } from '../core/access.js';
import { BadInputError } from '../core/errors.js';
import { normalizeUpn } from '../core/matters.js';
import { principalOf } from '../auth/middleware.js';
import { listConversationsIn, listPendingReplies } from '../store/conversation-views.js';
import { listEventPage } from '../store/events.js';
import { conversationFacts, setAssignee } from '../store/matters.js';
import { lastInboundAt } from '../store/outbound.js';
import { decodeCursor, encodeCursor } from '../store/scope.js';
import { audit, conversationTarget } from './audit.js';
import { idOf, parseInput, type ApiDeps } from './context.js';
import { detailOf, loadConversation, loadConversationToAct, messageItems, summaryFacts } from './load.js';
import { toPendingReply, toSummary, toWindowState } from './views.js';

/** Conversations: the list the user may see, one by id or by chat id, its window, messages and assignee. */
export function conversationsRouter(deps: ApiDeps): Router {
  const router = express.Router();

  router.get('/', async (req, res) => {
    const principal = principalOf(res);
    const query = parseInput(listConversationsQuery, req.query, 'conversation list query');
    const after = decodeCursor(query.cursor);
    if (after === 'invalid') throw new BadInputError('bad_cursor', 'The cursor is not one this API gave out; start again without it.');
    const rows = await listConversationsIn(deps.db, conversationScope(principal), {
      ...(query.matterId !== undefined ? { matterId: query.matterId } : {}),
      ...(query.unlinked !== undefined ? { unlinked: query.unlinked === 'true' } : {}),
      ...(after ? { after } : {}),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const facts = await summaryFacts(deps, page);
    const last = page.at(-1);
    await audit(deps, req, res, { action: 'conversation.list', details: { count: page.length, matterId: query.matterId ?? null } });
    res.json({
      items: page.map((row) => toSummary(row.conversation, facts.get(row.conversation.id)!)),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.lastActivityAt, last.conversation.id) : null,
    });
  });

  router.get('/by-chat-id/:chatId', async (req, res) => {
    const principal = principalOf(res);
    const loaded = await loadConversation(deps, principal, { chatId: String(req.params.chatId).trim().toLowerCase() });
    await audit(deps, req, res, { action: 'conversation.read', target: conversationTarget(loaded.conversation.chatToken), details: { by: 'chat_id' } });
    res.json(await detailOf(deps, principal, loaded));
  });

  router.get('/:id', async (req, res) => {
    const principal = principalOf(res);
    const loaded = await loadConversation(deps, principal, { id: idOf(req) });
    await audit(deps, req, res, { action: 'conversation.read', target: conversationTarget(loaded.conversation.chatToken) });
    res.json(await detailOf(deps, principal, loaded));
  });

  router.get('/:id/window', async (req, res) => {
    const { conversation } = await loadConversation(deps, principalOf(res), { id: idOf(req) });
    const window = toWindowState(conversation.channel, await lastInboundAt(deps.db, conversation.id), deps.clock.now(), deps.templates);
    // The window tells when the client last wrote: a read of the conversation like any other.
    await audit(deps, req, res, { action: 'conversation.read', target: conversationTarget(conversation.chatToken), details: { view: 'window' } });
    res.json(window);
  });

  router.get('/:id/messages', async (req, res) => {
    const { conversation } = await loadConversation(deps, principalOf(res), { id: idOf(req) });
    const query = parseInput(listMessagesQuery, req.query, 'message list query');
    const before = decodeCursor(query.cursor);
    if (before === 'invalid') throw new BadInputError('bad_cursor', 'The cursor is not one this API gave out; start again without it.');
    const events = await listEventPage(deps.db, conversation.id, before ? { at: before.at, seq: before.id } : undefined, query.limit + 1);
    const page = events.slice(0, query.limit).reverse();
    const oldest = page[0];
    await audit(deps, req, res, { action: 'message.read', target: conversationTarget(conversation.chatToken), details: { count: page.length } });
    res.json({
      items: await messageItems(deps, conversation, page),
      nextCursor: events.length > query.limit && oldest ? encodeCursor(oldest.timestamp, oldest.seq) : null,
      pending: before ? [] : (await listPendingReplies(deps.db, conversation.id)).map(toPendingReply),
    });
  });

  router.put('/:id/assignee', async (req, res) => {
    const principal = principalOf(res);
    const id = idOf(req);
    const loaded = await loadConversationToAct(deps, principal, id, 'assign it');
    const body = parseInput(assignSchema, req.body, 'assignment');
    const assignee = body.assignee === null ? null : normalizeUpn(body.assignee);
    await setAssignee(deps.db, id, assignee, principal.upn, deps.clock.now());
    await audit(deps, req, res, { action: 'conversation.assign', target: conversationTarget(loaded.conversation.chatToken), details: { assignee } });
    deps.feed.notifyConversation(id);
    // Answered with the new facts even when the assigner can no longer see the conversation.
    res.json(await detailOf(deps, principal, { ...loaded, facts: await conversationFacts(deps.db, id) }));
  });

  return router;
}
