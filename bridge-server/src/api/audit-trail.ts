import express, { type Router } from 'express';
import { auditFormat, auditQuery, type AuditEntryItem } from '@wa-bridge/shared/api/audit';
import { readsAuditTrail } from '../core/access.js';
import { auditActions } from '../core/audit.js';
import { auditCsvHeader, auditCsvRow, auditEntryView } from '../core/audit-csv.js';
import { BadInputError, ForbiddenError } from '../core/errors.js';
import { principalOf } from '../auth/middleware.js';
import { queryAudit, type AuditFilter } from '../store/audit.js';
import { audit } from './audit.js';
import { parseInput, type ApiDeps } from './context.js';
import { iso } from './views.js';

const day = 24 * 3600_000;
const csvPage = 5000;

/**
 * GET /api/audit: the audit trail, for compliance officers only (it shows what admins did too);
 * a page of JSON, or with format=csv every matching entry in the columns of `wa-bridge audit`.
 * Reading it is recorded too.
 */
export function auditTrailRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const principal = principalOf(res);
    if (!readsAuditTrail(principal)) throw new ForbiddenError('compliance_only', 'The audit trail needs the ComplianceOfficer role.');
    const query = parseInput(auditQuery, req.query, 'audit query');
    const { format } = parseInput(auditFormat, req.query, 'audit query');
    const from = query.from ? Date.parse(query.from) : deps.clock.now() - day;
    const to = query.to ? Date.parse(query.to) : undefined;
    if (to !== undefined && from > to) throw new BadInputError('bad_request', 'The audit query is not valid.', [{ path: 'from', message: 'must not be after "to"' }]);
    // An action no entry can have would answer an empty page, read as "nobody did that".
    if (query.action && !(auditActions as readonly string[]).includes(query.action)) {
      throw new BadInputError('bad_request', 'The audit query is not valid.', [{ path: 'action', message: `must be one of ${auditActions.join(', ')}` }]);
    }
    if (format === 'csv' && query.cursor) throw new BadInputError('bad_request', 'The audit query is not valid.', [{ path: 'cursor', message: 'CSV holds every matching entry; there is no page to continue' }]);
    const filter: AuditFilter = {
      from,
      ...(to !== undefined ? { to } : {}),
      ...(query.actor ? { actor: query.actor.toLowerCase() } : {}),
      ...(query.action ? { action: query.action } : {}),
      ...(query.target ? { target: query.target } : {}),
    };
    const recordRead = () =>
      audit(deps, req, res, { action: 'audit.read', details: { from: iso(from), to: to === undefined ? null : iso(to), action: query.action ?? null, target: query.target ?? null, actor: query.actor ?? null, format } });

    if (format === 'csv') {
      // Read whole before the answer starts, so a failure is a problem document, not a cut-off file.
      const lines = [auditCsvHeader()];
      for (let afterId = 0; ; ) {
        const page = await queryAudit(deps.db, { ...filter, afterId, limit: csvPage });
        for (const entry of page) lines.push(auditCsvRow(entry));
        if (page.length < csvPage) break;
        afterId = page.at(-1)!.id;
      }
      await recordRead();
      res
        .status(200)
        .set({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="audit-${iso(from).slice(0, 10)}.csv"` })
        .send(`${lines.join('\n')}\n`);
      return;
    }

    const rows = await queryAudit(deps.db, { ...filter, ...(query.cursor ? { afterId: Number(query.cursor) } : {}), limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    await recordRead();
    const items: AuditEntryItem[] = page.map(auditEntryView);
    res.json({ items, nextCursor: rows.length > query.limit && page.length > 0 ? String(page.at(-1)!.id) : null });
  });
  return router;
}
