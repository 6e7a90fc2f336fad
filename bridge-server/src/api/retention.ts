import express, { type Router } from 'express';
import { dueQuery, type DeletionCertificate, type DueConversation } from '@wa-bridge/shared/api/holds';
import { managesHolds } from '../core/access.js';
import { ForbiddenError, NotFoundError } from '../core/errors.js';
import { decideRetention } from '../core/retention.js';
import { principalOf } from '../auth/middleware.js';
import { listDeletionCertificates, listRetentionFacts, type DeletionCertificate as CertificateRow } from '../store/retention.js';
import { audit, conversationTarget } from './audit.js';
import { idOf, parseInput, type ApiDeps } from './context.js';
import { iso, toClient } from './views.js';

const dayMs = 24 * 3600_000;

/**
 * Retention for compliance officers: what the retention runs will delete within the days asked
 * (so a hold can be placed first), and the deletion certificates of what was deleted, each
 * downloadable as stored.
 */
export function retentionRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    if (!managesHolds(principalOf(res))) throw new ForbiddenError('retention_forbidden', 'Retention is read by compliance officers (the ComplianceOfficer role).');
    next();
  });

  router.get('/due', async (req, res) => {
    const { days } = parseInput(dueQuery, req.query, 'retention query');
    const until = deps.clock.now() + days * dayMs;
    const items: DueConversation[] = [];
    for (const facts of await listRetentionFacts(deps.db)) {
      const decision = decideRetention(facts, deps.retention, until);
      if (!decision.expired) continue;
      items.push({
        conversation: { id: facts.conversationId, chatId: facts.chatId, client: toClient(facts.clientName, facts.clientWaId) },
        matters: facts.matters.map((matter) => matter.reference),
        deleteFrom: iso(decision.retainUntil),
        rule: decision.rule,
      });
    }
    items.sort((a, b) => a.deleteFrom.localeCompare(b.deleteFrom) || a.conversation.id - b.conversation.id);
    await audit(deps, req, res, { action: 'retention.read', details: { days, due: items.length } });
    res.json({ items });
  });

  router.get('/certificates', async (req, res) => {
    const items = (await listDeletionCertificates(deps.db)).map(toCertificate);
    await audit(deps, req, res, { action: 'retention.read', details: { certificates: items.length } });
    res.json({ items });
  });

  // The certificate's bytes exactly as stored: their SHA-256 is the one the list and the audit trail give.
  router.get('/certificates/:id', async (req, res) => {
    const id = idOf(req);
    const [certificate] = await listDeletionCertificates(deps.db, { id });
    if (!certificate) throw new NotFoundError(`Deletion certificate ${id} does not exist.`);
    await audit(deps, req, res, { action: 'retention.read', target: conversationTarget(certificate.chatId), details: { certificate: id } });
    res.set('content-disposition', `attachment; filename="deletion-certificate-${certificate.id}.json"`);
    res.type('application/json').send(Buffer.from(certificate.json));
  });

  return router;
}

function toCertificate(row: CertificateRow): DeletionCertificate {
  const stored = JSON.parse(row.json) as { rule?: unknown; deletedBy?: unknown; conversation?: { events?: unknown } };
  return {
    id: row.id,
    chatId: row.chatId,
    reason: row.reason,
    rule: typeof stored.rule === 'string' ? stored.rule : null,
    deletedAt: iso(row.deletedAt),
    deletedBy: typeof stored.deletedBy === 'string' ? stored.deletedBy : null,
    events: typeof stored.conversation?.events === 'number' ? stored.conversation.events : row.lastSeq,
    sha256: row.sha256,
  };
}
