import express, { type Router } from 'express';
import type { Me, SandboxToken } from '@wa-bridge/shared/api/account';
import { capabilities } from '../core/access.js';
import { principalOf } from '../auth/middleware.js';
import { audit } from './audit.js';
import type { ApiDeps } from './context.js';
import { sendProblem } from './problem.js';
import { iso } from './views.js';

/** GET /api/me: who the token names, their roles, and whether this is the sandbox. */
export function meRouter(deps: ApiDeps): Router {
  const router = express.Router();
  // The front ends ask for /api/me when they open: that is the sign-in the trail records.
  router.get('/', async (req, res) => {
    const principal = principalOf(res);
    await audit(deps, req, res, { action: 'sign_in', details: { sandbox: principal.sandbox } });
    const me: Me = {
      user: { id: principal.id, upn: principal.upn, name: principal.name },
      roles: principal.roles,
      sandbox: principal.sandbox,
      can: capabilities(principal),
    };
    res.json(me);
  });
  return router;
}

/**
 * GET /api/sandbox/token: the demo sign-in, without a tenant. Exists only when the bridge runs as
 * the sandbox; the token holds every role and says it is the sandbox's made-up user.
 */
export function sandboxTokenRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get('/', async (_req, res) => {
    if (!deps.sandboxSignIn) {
      sendProblem(res, 404, 'not_sandbox', 'The demo sign-in exists only when the bridge runs as the sandbox; sign in with Entra ID.');
      return;
    }
    const issued = await deps.sandboxSignIn.issue();
    const body: SandboxToken = {
      accessToken: issued.accessToken,
      expiresAt: iso(issued.expiresAt),
      user: issued.user,
      notice: 'Sandbox demo user: not a real person and not a real sign-in. Every role is granted so the whole product can be tried.',
    };
    res.set('cache-control', 'no-store').json(body);
  });
  return router;
}
