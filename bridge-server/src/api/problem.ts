import type { ErrorRequestHandler, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { isBridgeError, WindowClosedError, type BridgeError } from '../core/errors.js';

/**
 * Turns any error into an RFC 9457 problem document. Known errors keep their status, code and
 * person-readable message; anything else becomes a plain 500 with a log id, never a stack trace.
 */
export interface ProblemLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export function sendProblem(
  res: Response,
  status: number,
  code: string,
  detail: string,
  errors: Array<{ path: string; message: string }> = [],
  extensions: Record<string, unknown> = {},
): void {
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: `urn:wa-bridge:problem:${code}`, status, code, title: titleFor(status), detail, ...(errors.length > 0 ? { errors } : {}), ...extensions });
}

/** RFC 9457 3.2 extension members: what a client needs to act on the problem. */
function extensionsOf(error: BridgeError): Record<string, unknown> {
  if (error instanceof WindowClosedError) return { templates: error.templates, closesAt: error.closedAt === null ? null : new Date(error.closedAt).toISOString() };
  return {};
}

export function problemHandler(logger: ProblemLogger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    if (isBridgeError(error)) return sendProblem(res, error.status, error.code, error.message, error.details, extensionsOf(error));
    const bodyError = expressBodyError(error);
    if (bodyError) return sendProblem(res, bodyError.status, bodyError.code, bodyError.detail);
    const logId = randomUUID();
    logger.error({ err: error, logId }, 'unhandled error');
    sendProblem(res, 500, 'internal_error', `Something went wrong on the server. Quote log id ${logId} when reporting it.`);
  };
}

/** body-parser's own errors (too large, unreadable) carry a status and a type. */
function expressBodyError(error: unknown): { status: number; code: string; detail: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (type === 'entity.too.large') return { status: 413, code: 'payload_too_large', detail: 'The request body is larger than this endpoint accepts.' };
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, code: 'bad_request', detail: 'The request body could not be read.' };
  return undefined;
}

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not found',
    409: 'Conflict',
    413: 'Payload too large',
    500: 'Internal server error',
    502: 'Upstream failure',
    503: 'Service unavailable',
  };
  return titles[status] ?? 'Error';
}
