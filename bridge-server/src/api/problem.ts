import type { ErrorRequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isBridgeError, WindowClosedError, type BridgeError } from '../core/errors.js';

/**
 * Turns any error into an RFC 9457 problem document. Known errors keep their status, code and
 * person-readable message; anything else becomes a plain 500 with a log id, never a stack trace.
 */
export interface ProblemLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export function sendProblem(
  res: ServerResponse,
  status: number,
  code: string,
  detail: string,
  errors: Array<{ path: string; message: string }> = [],
  extensions: Record<string, unknown> = {},
): void {
  // Written on Node's own response, so that a route answered before express (the Cloud API
  // webhook's POST) answers the same way as those behind it.
  const body = JSON.stringify(problemDocument(status, code, detail, errors, extensions));
  res.writeHead(status, { 'Content-Type': 'application/problem+json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

function problemDocument(status: number, code: string, detail: string, errors: Array<{ path: string; message: string }>, extensions: Record<string, unknown>): Record<string, unknown> {
  return { type: `urn:wa-bridge:problem:${code}`, status, code, title: titleFor(status), detail, ...(errors.length > 0 ? { errors } : {}), ...extensions };
}

/** RFC 9457 3.2 extension members: what a client needs to act on the problem. */
function extensionsOf(error: BridgeError): Record<string, unknown> {
  if (error instanceof WindowClosedError) return { templates: error.templates, closesAt: error.closedAt === null ? null : new Date(error.closedAt).toISOString() };
  return {};
}

export function problemHandler(logger: ProblemLogger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    answerProblem(res, problemFor(error, logger));
  };
}

/** problemHandler for a route answered before express: the same answers on Node's own response. */
export function sendErrorProblem(res: ServerResponse, error: unknown, logger: ProblemLogger): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  answerProblem(res, problemFor(error, logger));
}

const answerProblem = (res: ServerResponse, problem: Problem): void => sendProblem(res, problem.status, problem.code, problem.detail, problem.errors, problem.extensions);

interface Problem {
  status: number;
  code: string;
  detail: string;
  errors: Array<{ path: string; message: string }>;
  extensions: Record<string, unknown>;
}

function problemFor(error: unknown, logger: ProblemLogger): Problem {
  if (isBridgeError(error)) return { status: error.status, code: error.code, detail: error.message, errors: error.details, extensions: extensionsOf(error) };
  const bodyError = expressBodyError(error);
  if (bodyError) return { ...bodyError, errors: [], extensions: {} };
  const logId = randomUUID();
  logger.error({ err: error, logId }, 'unhandled error');
  return { status: 500, code: 'internal_error', detail: `Something went wrong on the server. Quote log id ${logId} when reporting it.`, errors: [], extensions: {} };
}

/** body-parser's own errors (too large, unreadable) carry a status and a type. */
function expressBodyError(error: unknown): { status: number; code: string; detail: string } | undefined {
  const read = bodyReadError(error);
  if (!read) return undefined;
  return { ...read, detail: read.code === 'payload_too_large' ? 'The request body is larger than this endpoint accepts.' : 'The request body could not be read.' };
}

/**
 * What an error of raw-body (which body-parser reads with) means for the answer: 413 for a body
 * over the limit, its own 4xx status for one that could not be read; undefined for any other error.
 */
export function bodyReadError(error: unknown): { status: number; code: 'payload_too_large' | 'bad_request' } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (type === 'entity.too.large') return { status: 413, code: 'payload_too_large' };
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, code: 'bad_request' };
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
