import express, { type Router } from 'express';
import { auditQuery, type AuditEntryItem } from '@wa-bridge/shared/api/audit';
import { seesAll } from '../core/access.js';
import { BadInputError, ForbiddenError } from '../core/errors.js';
import { principalOf } from '../auth/middleware.js';
import { queryAudit } from '../store/audit.js';
import { audit } from './audit.js';
import { parseInput, type ApiDeps } from './context.js';
import { iso } from './views.js';

const day = 24 * 3600_000;

/** GET /api/audit: the audit trail for compliance officers and admins; reading it is recorded too. */
export function auditTrailRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const principal = principalOf(res);
    if (!seesAll(principal)) throw new ForbiddenError('compliance_only', 'The audit trail needs the ComplianceOfficer or Admin role.');
    const query = parseInput(auditQuery, req.query, 'audit query');
    const from = query.from ? Date.parse(query.from) : deps.clock.now() - day;
    const to = query.to ? Date.parse(query.to) : undefined;
    if (to !== undefined && from > to) throw new BadInputError('bad_request', 'The audit query is not valid.', [{ path: 'from', message: 'must not be after "to"' }]);
    const rows = await queryAudit(deps.db, {
      from,
      ...(to !== undefined ? { to } : {}),
      ...(query.actor ? { actor: query.actor.toLowerCase() } : {}),
      ...(query.action ? { action: query.action } : {}),
      ...(query.target ? { target: query.target } : {}),
      ...(query.cursor ? { afterId: Number(query.cursor) } : {}),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    await audit(deps, req, res, { action: 'audit.read', details: { from: iso(from), to: to === undefined ? null : iso(to), action: query.action ?? null, target: query.target ?? null, actor: query.actor ?? null } });
    const items: AuditEntryItem[] = page.map((e) => ({
      id: e.id,
      at: iso(e.at),
      actor: e.actor,
      actorName: e.actorName ?? null,
      roles: [...(e.roles ?? [])],
      action: e.action,
      target: e.target ?? null,
      source: e.source,
      details: (e.details ?? {}) as AuditEntryItem['details'],
      entrySha256: e.entrySha256,
    }));
    res.json({ items, nextCursor: rows.length > query.limit && page.length > 0 ? String(page.at(-1)!.id) : null });
  });
  return router;
}
