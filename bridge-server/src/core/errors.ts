import type { ApprovedTemplate } from './templates.js';

/**
 * The one error family every layer throws. Each error has a stable snake_case `code`, a message
 * written for a person (what was wrong, where, what to do), and optional per-field `details`.
 * Surfaces translate these once: api/problem.ts to a JSON problem document, cli/ to one line and
 * an exit code.
 */
export interface FieldIssue {
  path: string;
  message: string;
}

export abstract class BridgeError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly details: FieldIssue[];

  constructor(message: string, details: FieldIssue[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class BadInputError extends BridgeError {
  readonly status = 400;
  constructor(
    readonly code: string,
    message: string,
    details: FieldIssue[] = [],
  ) {
    super(message, details);
  }
}

export class UnauthorizedError extends BridgeError {
  readonly status = 401;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ForbiddenError extends BridgeError {
  readonly status = 403;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends BridgeError {
  readonly status = 404;
  readonly code = 'not_found';
}

export class ConflictError extends BridgeError {
  readonly status = 409;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class PayloadTooLargeError extends BridgeError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

/** A configuration problem; the message starts with the variable's name. */
export class ConfigError extends BridgeError {
  readonly status = 500;
  readonly code = 'config_invalid';
}

/** The archive no longer matches its own hash chain: nothing is made from it until `wa-bridge verify` is looked into. */
export class IntegrityError extends BridgeError {
  readonly status = 500;
  readonly code = 'archive_broken';
}

export type RetryClass = 'transient' | 'permanent';

/**
 * A call to something outside (SMTP, WhatsApp, Graph) failed. The adapter that made the call
 * classifies it; the outbox only reads `retry`.
 */
export class UpstreamError extends BridgeError {
  readonly status = 502;
  readonly code = 'upstream_failed';
  constructor(
    readonly service: string,
    message: string,
    readonly retry: RetryClass,
    readonly upstreamStatus?: number | string,
  ) {
    super(message);
  }
}

/**
 * A call that failed after its request went out (the connection dropped before the answer, or
 * the answer did not come in time): the service may have done what was asked. Transient; a send
 * retried after it looks first for what the first try may have sent (flows/send.ts), so the
 * retry waits long enough for WhatsApp's statuses to say so.
 */
export class OutcomeUnknownError extends UpstreamError {
  constructor(service: string, message: string, upstreamStatus?: number | string) {
    super(service, message, 'transient', upstreamStatus);
  }
}

/**
 * The work belongs to another bridge instance, e.g. the one that owns the WhatsApp Web session.
 * Not a failure of the job: it waits for that instance without using up an attempt.
 */
export class RunsElsewhereError extends BridgeError {
  readonly status = 503;
  readonly code = 'runs_elsewhere';
}

export const isBridgeError = (error: unknown): error is BridgeError => error instanceof BridgeError;

/**
 * A free-form message outside WhatsApp's 24-hour customer-service window: only an approved
 * template may be sent. Carries the templates the sender can choose from and when the window
 * closed.
 */
export class WindowClosedError extends BridgeError {
  readonly status = 409;
  readonly code = 'window_closed';
  constructor(
    message: string,
    readonly templates: ApprovedTemplate[],
    readonly closedAt: number | null,
  ) {
    super(message);
  }
}
