import { canonicalJson } from './chain.js';
import { sha256 } from './ids.js';

/**
 * The audit trail's words and its hash chain. Every entry says who (the signed-in user, or the
 * operating-system user for the CLI, or the bridge itself), did what, to what, when and from
 * where; details never hold message content.
 */
export const auditActions = [
  'sign_in',
  'conversation.list',
  'conversation.read',
  'message.read',
  'stream.open',
  'media.read',
  'search',
  'reply',
  'matter.create',
  'matter.close',
  'matter.read',
  'matter.list',
  'matter.link',
  'matter.unlink',
  'matter.member_add',
  'conversation.assign',
  'export',
  'import',
  'restore',
  'backup',
  'retention.delete',
  'retention.dry_run',
  'hold.place',
  'hold.release',
  'hold.list',
  'retention.read',
  'gdpr.access',
  'gdpr.erasure',
  'config.change',
  'admin.read',
  'jobs.retry',
  'audit.read',
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditInput {
  at: number;
  /** A stable id: Entra object id or UPN, `cli:<os user>`, or `system`. */
  actor: string;
  actorName?: string;
  roles?: readonly string[];
  action: AuditAction;
  /** What was acted on: `conversation:<chat id>`, `matter:<ref>`, `bundle:<file>`, … */
  target?: string;
  /** Where from: the client's IP address for the API, `cli@<host>` for commands. */
  source: string;
  details?: Record<string, string | number | boolean | null>;
}

export interface AuditEntry extends AuditInput {
  id: number;
  prevSha256: string;
  entrySha256: string;
}

/** The canonical text an entry's link covers: every field but the storage id and the links. */
export function canonicalAudit(entry: AuditInput): string {
  return canonicalJson({
    v: 1,
    at: entry.at,
    actor: entry.actor,
    actorName: entry.actorName ?? null,
    roles: [...(entry.roles ?? [])],
    action: entry.action,
    target: entry.target ?? null,
    source: entry.source,
    details: entry.details ?? {},
  });
}

export function auditLink(previous: string, entry: AuditInput): string {
  return sha256(`wa-bridge-audit:v1\n${previous}\n${canonicalAudit(entry)}`).toString('hex');
}

/** Records what people do; implemented over the store, handed to the API and the CLI. */
export interface AuditTrail {
  /** Appends one entry; resolves once it is committed. Never throws for content reasons. */
  record(entry: Omit<AuditInput, 'at'> & { at?: number }): Promise<AuditEntry>;
}
