import express, { type Router } from 'express';
import { requireUser } from '../auth/middleware.js';
import { adminRouter } from './admin.js';
import { attachmentsRouter } from './attachments.js';
import { auditTrailRouter } from './audit-trail.js';
import type { ApiDeps } from './context.js';
import { exportsRouter } from './exports.js';
import { holdsRouter } from './holds.js';
import { conversationsRouter } from './conversations.js';
import { importsRouter } from './imports.js';
import { linksRouter } from './links.js';
import { mattersRouter } from './matters.js';
import { meRouter, sandboxTokenRouter } from './me.js';
import { problemHandler, sendProblem, type ProblemLogger } from './problem.js';
import { repliesRouter } from './replies.js';
import { retentionRouter } from './retention.js';
import { searchRouter } from './search.js';
import { streamRouter } from './stream.js';

/**
 * Everything under /api: one router per resource behind the bearer-token check, JSON bodies up to
 * 25 MiB (replies carry base64 files), and a problem document for every error, unknown routes
 * included.
 */
export function apiRouter(deps: ApiDeps, logger: ProblemLogger): Router {
  const api = express.Router();
  // Client conversations are personal data: no shared or browser cache keeps API answers.
  api.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  api.use('/sandbox/token', sandboxTokenRouter(deps));
  api.use('/stream', requireUser(deps.validator, { allowQueryToken: true }), streamRouter(deps));
  api.use(requireUser(deps.validator));
  api.use(express.json({ limit: '25mb' }));
  api.use('/me', meRouter(deps));
  api.use('/conversations', conversationsRouter(deps), repliesRouter(deps), linksRouter(deps), importsRouter(deps));
  api.use('/attachments', attachmentsRouter(deps));
  api.use('/matters', mattersRouter(deps));
  api.use('/search', searchRouter(deps));
  api.use('/admin', adminRouter(deps));
  api.use('/audit', auditTrailRouter(deps));
  api.use('/exports', exportsRouter(deps));
  api.use('/holds', holdsRouter(deps));
  api.use('/retention', retentionRouter(deps));
  api.use((req, res) => sendProblem(res, 404, 'not_found', `No API route for ${req.method} ${req.baseUrl}${req.path}.`));
  api.use(problemHandler(logger));
  return api;
}
