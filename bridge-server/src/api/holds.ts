import express, { type Response, type Router } from 'express';
import { listHoldsQuery, placeHoldSchema, releaseHoldSchema } from '@wa-bridge/shared/api/holds';
import { managesHolds } from '../core/access.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../core/errors.js';
import { principalOf } from '../auth/middleware.js';
import { getConversation } from '../store/conversations.js';
import { getMatter } from '../store/matters.js';
import { listHolds, placeHold, releaseHold } from '../store/retention.js';
import { audit, conversationTarget, matterTarget } from './audit.js';
import { idOf, parseInput, type ApiDeps } from './context.js';
import { toLegalHold } from './views.js';

/**
 * Legal holds, for compliance officers: list, place on a matter or a conversation, release. The
 * audit trail records each as the CLI's `wa-bridge hold` does (hold.place on the matter or
 * conversation, hold.release on the hold), with the reason given.
 */
export function holdsRouter(deps: ApiDeps): Router {
  const router = express.Router();

  router.get('/', async (req, res) => {
    mustManageHolds(res);
    const { all } = parseInput(listHoldsQuery, req.query, 'hold list query');
    const items = (await listHolds(deps.db, all)).map(toLegalHold);
    await audit(deps, req, res, { action: 'hold.list', details: { all, holds: items.length } });
    res.json({ items });
  });

  router.post('/', async (req, res) => {
    const principal = mustManageHolds(res);
    const body = parseInput(placeHoldSchema, req.body, 'hold');
    let target: string;
    let scope: { matterId: number } | { conversationId: number };
    if (body.matterId !== undefined) {
      const matter = await getMatter(deps.db, body.matterId);
      if (!matter) throw new NotFoundError(`Matter ${body.matterId} does not exist.`);
      target = matterTarget(matter.reference);
      scope = { matterId: matter.id };
    } else {
      const conversation = await getConversation(deps.db, body.conversationId!);
      if (!conversation) throw new NotFoundError(`Conversation ${body.conversationId} does not exist.`);
      target = conversationTarget(conversation.chatToken);
      scope = { conversationId: conversation.id };
    }
    const id = await placeHold(deps.db, { ...scope, reason: body.reason, placedBy: principal.upn, at: deps.clock.now() });
    await audit(deps, req, res, { action: 'hold.place', target, details: { hold: id, reason: body.reason } });
    const [hold] = await listHolds(deps.db, true, { id });
    // Told on the live stream: the open views of what the hold keeps, and the officers' lists.
    await deps.feed.notifyHolds();
    res.status(201).json(toLegalHold(hold!));
  });

  router.post('/:id/release', async (req, res) => {
    const principal = mustManageHolds(res);
    const id = idOf(req);
    const { reason } = parseInput(releaseHoldSchema, req.body, 'release');
    const [hold] = await listHolds(deps.db, true, { id });
    if (!hold) throw new NotFoundError(`Hold ${id} does not exist.`);
    if (!(await releaseHold(deps.db, id, { by: principal.upn, reason, at: deps.clock.now() }))) {
      throw new ConflictError('hold_released', `Hold ${id} was released already, by ${hold.releasedBy ?? 'someone else'}.`);
    }
    await audit(deps, req, res, { action: 'hold.release', target: `hold:${id}`, details: { reason } });
    const [released] = await listHolds(deps.db, true, { id });
    await deps.feed.notifyHolds();
    res.json(toLegalHold(released!));
  });

  return router;
}

function mustManageHolds(res: Response) {
  const principal = principalOf(res);
  if (!managesHolds(principal)) throw new ForbiddenError('holds_forbidden', 'Legal holds are placed, released and listed by compliance officers (the ComplianceOfficer role).');
  return principal;
}
