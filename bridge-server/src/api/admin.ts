import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AdminStatus, JobItem, UnreadDocument } from '@wa-bridge/shared/api/account';
import { listUnreadDocuments } from '../store/document-text.js';
import { isAdmin } from '../core/access.js';
import { ForbiddenError, NotFoundError } from '../core/errors.js';
import { principalOf } from '../auth/middleware.js';
import { audit } from './audit.js';
import { idOf, type ApiDeps } from './context.js';
import { iso } from './views.js';

/** The admin view (Admin role): channel states, relay lag, jobs needing attention and their retry. */
export function adminRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.use((_req: Request, res: Response, next: NextFunction) => {
    if (!isAdmin(principalOf(res))) throw new ForbiddenError('admin_only', 'The admin view needs the Admin role.');
    next();
  });

  router.get('/status', async (req, res) => {
    const counts = await deps.outbox.counts();
    const jobs = { pending: 0, running: 0, needsAttention: 0 };
    for (const byState of Object.values(counts)) {
      jobs.pending += byState.pending ?? 0;
      jobs.running += byState.running ?? 0;
      jobs.needsAttention += byState.needs_attention ?? 0;
    }
    const body: AdminStatus = {
      sandbox: deps.sandbox,
      ...(await deps.channelStatus()),
      relayLagSeconds: (await deps.outbox.oldestPendingAgeMs(deps.clock.now())) / 1000,
      jobs,
      templates: deps.templates,
      archive: (await deps.archiveStatus()).map((task) => ({
        task: task.task,
        lastRunAt: task.lastRunAt === null ? null : iso(task.lastRunAt),
        everyHours: task.everyMs / 3_600_000,
        runningSince: task.runningSince === null ? null : iso(task.runningSince),
        overdue: task.overdue,
      })),
      documentsWaiting: await deps.documentsWaiting(),
    };
    await audit(deps, req, res, { action: 'admin.read', details: { view: 'status' } });
    res.json(body);
  });

  router.get('/jobs', async (req, res) => {
    const jobs = await deps.outbox.list({ states: ['needs_attention'], limit: 500 });
    const items: JobItem[] = jobs.map((job) => ({
      id: job.id,
      kind: job.kind,
      state: job.state,
      conversationId: job.conversationId,
      attempts: job.attempts,
      lastError: job.lastError,
      createdAt: iso(job.createdAt),
      // A parked job's run time is when it last ran: the moment it was given up on.
      updatedAt: iso(Math.max(job.runAt, job.createdAt)),
    }));
    await audit(deps, req, res, { action: 'admin.read', details: { view: 'jobs', count: items.length } });
    res.json({ items });
  });

  // Documents whose text could not be read for search: what a search cannot find inside.
  router.get('/unread-documents', async (req, res) => {
    const rows = await listUnreadDocuments(deps.db, 500);
    const items: UnreadDocument[] = rows.map((row) => ({
      attachmentId: row.attachmentId,
      conversationId: row.conversationId,
      chatId: row.chatToken,
      clientName: row.clientName,
      messageId: row.eventId,
      fileName: row.fileName,
      sentAt: iso(row.timestamp),
      reason: row.reason,
    }));
    await audit(deps, req, res, { action: 'admin.read', details: { view: 'unread-documents', count: items.length } });
    res.json({ items });
  });

  router.post('/jobs/:id/retry', async (req, res) => {
    const id = idOf(req);
    const retried = await deps.outbox.retryParked([id]);
    if (retried === 0) throw new NotFoundError(`Job ${id} is not waiting for attention (it may have been retried or finished).`);
    await audit(deps, req, res, { action: 'jobs.retry', target: `job:${id}` });
    deps.wake();
    res.status(204).end();
  });
  return router;
}
