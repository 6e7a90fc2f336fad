import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { AdminStatus } from '@wa-bridge/shared/api/account';
import type { AuditTrail } from '../core/audit.js';
import type { OutboundCommand } from '../core/commands.js';
import { BadInputError } from '../core/errors.js';
import type { BlobStore, Clock, UserDirectory } from '../core/ports.js';
import type { RetentionPolicy } from '../core/retention.js';
import type { ArchiveTask } from '../archive/health.js';
import type { ApprovedTemplate } from '../core/templates.js';
import type { ReplyAccepted } from '../flows/reply.js';
import type { SandboxSignIn } from '../auth/sandbox-signin.js';
import type { TokenValidator } from '../auth/token-validator.js';
import type { Executor } from '../store/executor.js';
import type { SqlOutbox } from '../store/outbox.js';
import type { ChangeFeed } from './change-feed.js';

/** What the API's routers need; app.ts builds it. */
export interface ApiDeps {
  db: Executor;
  outbox: SqlOutbox;
  blobs: BlobStore;
  clock: Clock;
  templates: ApprovedTemplate[];
  sandbox: boolean;
  /** The firm's zone (WA_BRIDGE_TIMEZONE): an imported chat export's times are read in it unless the upload names one. */
  timeZone: string;
  /** The firm's retention periods (WA_BRIDGE_RETENTION_YEARS), which the matter and conversation views report. */
  retention: RetentionPolicy;
  /** Largest reply file, in bytes. */
  mediaMaxBytes: number;
  /** Absent when sign-in is not configured: every call is refused. */
  validator?: TokenValidator;
  /** The sandbox's demo sign-in; only in the sandbox. */
  sandboxSignIn?: SandboxSignIn;
  /** Graph user lookup; absent when not configured (members are then given by sign-in name). */
  directory?: UserDirectory;
  /** The reply flow as app.ts runs it (store, queue, wake the worker): the same road as an email reply. */
  reply(command: OutboundCommand): Promise<ReplyAccepted>;
  /** Channel states and reply settings for the admin view. */
  channelStatus(): Promise<Pick<AdminStatus, 'channels' | 'allowedSenders'>>;
  /** Wakes the outbox worker (after a retry). */
  wake(): void;
  /** The archive's scheduled tasks (checkpoints, backups, retention): when each last ran, and whether it is overdue. */
  archiveStatus(): Promise<Array<ArchiveTask & { overdue: boolean }>>;
  /** Stored documents waiting to be read for search; null when documents are not read. */
  documentsWaiting(): Promise<number | null>;
  feed: ChangeFeed;
  /** The audit trail every read and change is recorded in; absent only in tests of other parts. */
  audit?: AuditTrail;
  /** Writes an evidence bundle to a temporary file; `cleanup` removes it after the answer. */
  exportEvidence?(request: { conversations: string[]; matter?: string; from?: number; to?: number; timeZone: string; exportedBy: string }): Promise<{ path: string; sha256: string; events: number; cleanup(): Promise<void> }>;
}

/** Parses request input with a contract schema; every issue is reported with its path. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new BadInputError(
    'bad_request',
    `The ${what} is not valid.`,
    parsed.error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })),
  );
}

export const idOf = (req: Request, name = 'id'): number => {
  const value = Number(req.params[name]);
  if (!Number.isSafeInteger(value) || value <= 0) throw new BadInputError('bad_id', `"${req.params[name] ?? ''}" is not an id: expected a positive whole number.`);
  return value;
};

/** The bearer token of this request (for on-behalf-of calls). */
export const bearerOf = (req: Request): string => /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1] ?? '';

export const sendJson = (res: Response, status: number, body: unknown): void => void res.status(status).json(body);
