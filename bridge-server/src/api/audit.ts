import type { Request, Response } from 'express';
import type { AuditAction } from '../core/audit.js';
import { principalOf } from '../auth/middleware.js';
import type { ApiDeps } from './context.js';

/**
 * Records what a signed-in user did through the API in the audit trail: who (their sign-in name
 * and roles), what, to which conversation or matter, and from which address. Details carry ids and
 * counts, never message text. Awaited before the answer: nothing is shown unrecorded, and a change
 * is recorded right after it commits (a failed record then answers 500, so the caller knows).
 */
export async function audit(
  deps: ApiDeps,
  req: Request,
  res: Response,
  entry: { action: AuditAction; target?: string; details?: Record<string, string | number | boolean | null> },
): Promise<void> {
  if (!deps.audit) return;
  const principal = principalOf(res);
  await deps.audit.record({
    actor: principal.upn,
    ...(principal.name ? { actorName: principal.name } : {}),
    roles: principal.sandbox ? [...principal.roles, 'sandbox'] : principal.roles,
    action: entry.action,
    ...(entry.target ? { target: entry.target } : {}),
    source: req.ip ?? req.socket.remoteAddress ?? 'unknown',
    ...(entry.details ? { details: entry.details } : {}),
  });
}

export const conversationTarget = (chatId: string): string => `conversation:${chatId}`;
export const matterTarget = (reference: string): string => `matter:${reference}`;
