import express, { type Router } from 'express';
import { createLinkSchema } from '@wa-bridge/shared/api/matters';
import { canLinkToMatter } from '../core/access.js';
import { ForbiddenError, NotFoundError } from '../core/errors.js';
import { assertCanLink, assertCanUnlink } from '../core/matters.js';
import { principalOf } from '../auth/middleware.js';
import { endLink, getLink, getMatter, insertLink, listLinks } from '../store/matters.js';
import { audit, conversationTarget } from './audit.js';
import { idOf, parseInput, type ApiDeps } from './context.js';
import { loadConversation, loadConversationToAct } from './load.js';
import { toLink } from './views.js';

/**
 * A conversation's matter links: the history, linking to a matter, and ending a link. Ending keeps
 * the link as history with its end time and who ended it.
 */
export function linksRouter(deps: ApiDeps): Router {
  const router = express.Router();

  router.get('/:id/links', async (req, res) => {
    const { conversation } = await loadConversation(deps, principalOf(res), { id: idOf(req) });
    const items = (await listLinks(deps.db, [conversation.id], true)).map(toLink);
    await audit(deps, req, res, { action: 'conversation.read', target: conversationTarget(conversation.chatToken), details: { view: 'links', count: items.length } });
    res.json({ items });
  });

  router.post('/:id/links', async (req, res) => {
    const principal = principalOf(res);
    const { conversation, memberOf } = await loadConversationToAct(deps, principal, idOf(req), 'change its matters');
    const { matterId } = parseInput(createLinkSchema, req.body, 'link');
    const matter = await getMatter(deps.db, matterId);
    if (!matter) throw new NotFoundError(`Matter ${matterId} does not exist.`);
    if (!canLinkToMatter(principal, matterId, memberOf)) throw new ForbiddenError('matter_forbidden', `You are not on matter ${matter.reference}, so you cannot link conversations to it.`);
    const linkId = await deps.db.transaction().execute(async (trx) => {
      assertCanLink(matter, (await listLinks(trx, [conversation.id], false)).map((l) => ({ id: l.id, matterId: l.matterId, unlinkedAt: l.unlinkedAt })));
      return insertLink(trx, conversation.id, matterId, principal.upn, deps.clock.now());
    });
    await audit(deps, req, res, { action: 'matter.link', target: conversationTarget(conversation.chatToken), details: { matter: matter.reference, linkId } });
    deps.feed.notifyConversation(conversation.id);
    res.status(201).json(toLink((await getLink(deps.db, linkId))!));
  });

  router.delete('/:id/links/:linkId', async (req, res) => {
    const principal = principalOf(res);
    const { conversation } = await loadConversationToAct(deps, principal, idOf(req), 'change its matters');
    const link = await getLink(deps.db, idOf(req, 'linkId'));
    if (!link || link.conversationId !== conversation.id) throw new NotFoundError(`Conversation ${conversation.id} has no link ${req.params.linkId}.`);
    assertCanUnlink(link);
    await endLink(deps.db, link.id, principal.upn, deps.clock.now());
    await audit(deps, req, res, { action: 'matter.unlink', target: conversationTarget(conversation.chatToken), details: { matter: link.reference, linkId: link.id } });
    deps.feed.notifyConversation(conversation.id);
    res.json(toLink((await getLink(deps.db, link.id))!));
  });

  return router;
}
