import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import { bodyReadError, sendErrorProblem, sendProblem, type ProblemLogger } from '../../api/problem.js';
import type { NormalizedBatch } from '../../core/events.js';
import { BadInputError, ConfigError } from '../../core/errors.js';
import { normalizeCloudWebhook } from './normalize.js';
import { parseCloudWebhook } from './payload.js';
import { checkSignature, equalSecrets, type SignatureCheck } from './signature.js';

export interface CloudWebhookOptions {
  /** The App Secret from the Meta App Dashboard; key of X-Hub-Signature-256. */
  appSecret: string;
  /** The verify token typed into the App Dashboard when subscribing the callback URL. */
  verifyToken: string;
  /**
   * Stores the delivery (flows/ingest.ts). Called once per valid, signed POST; it must resolve
   * only after the batch is committed, because its resolution is what answers Meta with 200.
   * A rejection reaches express's error handler and Meta gets a 5xx and redelivers.
   */
  onBatch(batch: NormalizedBatch): Promise<void>;
  /** Largest body accepted, in bytes; default 4 MiB (Meta's payloads are at most 3 MB). */
  maxBodyBytes?: number;
}

/** Meta documents payloads of up to 3 MB (Meta webhooks reference); a margin so a full one is never cut. */
export const defaultWebhookBodyLimit = 4 * 1024 * 1024;

export interface CloudWebhook {
  /** GET (the verify-token handshake) and POST, for express, mounted at `/webhooks/whatsapp`. */
  router: Router;
  /**
   * The HTTP server's request listener: a delivery, a POST to exactly `/webhooks/whatsapp` with a
   * body that is not content-encoded (every delivery Meta makes), is answered here on Node's own
   * request and response; every other request goes to `app`, where the router answers any other
   * spelling of the path or a compressed body as before.
   *
   * Express runs its router and gives each request and response a prototype of its own, after
   * which Node's own HTTP code runs slower on them: in a loopback test with kept-alive
   * connections, answering a POST cost 0.14 ms of CPU through an express app, 0.09 ms with only
   * the prototypes changed, and 0.06 ms on Node's objects as they come. Webhooks come in bursts,
   * on the thread that also stores them. A delivery answered here gets the same reading, checks
   * and answers as the router's POST; `seen` is called for it first (as a middleware before the
   * router would be), and an unexpected error (onBatch failed) is answered as problemHandler
   * would, logged to `logger`.
   */
  listener(app: RequestListener, options: { logger: ProblemLogger; seen?: (req: IncomingMessage, res: ServerResponse) => void }): RequestListener;
}

/**
 * The Cloud API webhook. GET answers the verify-token handshake. POST reads the raw body, checks
 * its signature before anything else, validates and normalizes it, hands it to `onBatch`, and
 * answers 200 only once that resolves. 4xx answers are problem documents that never quote
 * secrets or message text.
 */
export function createCloudWebhook(options: CloudWebhookOptions): CloudWebhook {
  if (options.appSecret === '') throw new ConfigError('appSecret: the Cloud API App Secret is empty; copy it from the Meta App Dashboard.');
  if (options.verifyToken === '') throw new ConfigError('verifyToken: the Cloud API webhook verify token is empty; an empty token would let anyone subscribe.');
  const limit = options.maxBodyBytes ?? defaultWebhookBodyLimit;

  /** Everything after the body is read: the signature first, then parsing, then the store. */
  const deliver = async (body: Buffer, signatureHeader: string | undefined, res: ServerResponse): Promise<void> => {
    const signature = checkSignature(options.appSecret, body, signatureHeader);
    if (signature !== 'valid') return refuseSignature(res, signature);

    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      // The parser's message quotes the body, so it is not passed on.
      return sendProblem(res, 400, 'bad_json', 'The webhook body is not valid JSON.');
    }

    let batch: NormalizedBatch;
    try {
      batch = normalizeCloudWebhook(parseCloudWebhook(json));
    } catch (error) {
      if (error instanceof BadInputError) return sendProblem(res, 400, error.code, error.message, error.details);
      throw error;
    }

    // Meta retries any non-2xx for days, so answer 200 only after the commit.
    await options.onBatch(batch);
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': 2 }).end('{}');
  };

  const router = Router();
  router.get('/', (req, res) => answerVerification(req, res, options.verifyToken));
  router.post(
    '/',
    // Any content type: the signature is over whatever bytes arrived, so none may be rejected or
    // rewritten by a parser picked on Content-Type.
    express.raw({ type: () => true, limit }),
    bodyReadErrors(limit),
    (req: Request, res: Response) => deliver(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.get('x-hub-signature-256'), res),
  );

  /** The POST on Node's own request and response; rejects only with an unexpected error. */
  const handleDirect = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Buffer;
    try {
      // raw-body is what express.raw reads with: the same length check and limit.
      body = await getRawBody(req, { length: req.headers['content-length'], limit });
    } catch (error) {
      // What is left of the request is read and dropped, as body-parser does, so that the
      // connection can carry the next delivery.
      if (answerBodyError(res, error, limit)) return void req.resume();
      throw error;
    }
    const header = req.headers['x-hub-signature-256'];
    await deliver(body, Array.isArray(header) ? header.join(', ') : header, res);
  };

  return {
    router,
    listener: (app, { logger, seen }) => (req, res) => {
      if (!takesDirectly(req)) return void app(req, res);
      seen?.(req, res);
      handleDirect(req, res).catch((error: unknown) => sendErrorProblem(res, error, logger));
    },
  };
}

const directPath = '/webhooks/whatsapp';

const takesDirectly = (req: IncomingMessage): boolean =>
  req.method === 'POST' && (req.url === directPath || req.url?.startsWith(`${directPath}?`) === true) && req.headers['content-encoding'] === undefined;

/** Hub verification (Meta webhooks reference): echo the challenge only for `subscribe` with our token. */
function answerVerification(req: Request, res: Response, verifyToken: string): void {
  // Read the query ourselves: the app's query-parser setting must not decide how `hub.mode` parses.
  const params = new URL(req.originalUrl, 'http://webhook.invalid').searchParams;
  const mode = params.get('hub.mode');
  const token = params.get('hub.verify_token');
  const challenge = params.get('hub.challenge');
  if (mode !== 'subscribe' || token === null || !equalSecrets(token, verifyToken) || !challenge) {
    return sendProblem(res, 403, 'verification_failed', 'Webhook verification refused: hub.mode must be "subscribe" and hub.verify_token must match the configured verify token.');
  }
  res.status(200).type('text/plain').set('X-Content-Type-Options', 'nosniff').send(challenge);
}

function refuseSignature(res: ServerResponse, check: Exclude<SignatureCheck, 'valid'>): void {
  if (check === 'missing') {
    return sendProblem(res, 401, 'signature_missing', 'The X-Hub-Signature-256 header is missing; every Cloud API delivery is signed with the App Secret.');
  }
  sendProblem(res, 401, 'signature_mismatch', 'The X-Hub-Signature-256 header does not match the body; check that the configured App Secret is the one of the subscribed Meta app.');
}

/** Errors of the raw-body reader (too large, aborted, bad encoding) answered here as problems. */
function bodyReadErrors(limit: number): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (!answerBodyError(res, error, limit)) next(error);
  };
}

/** Answers a raw-body error with its problem; false when it is not one (nothing was answered). */
function answerBodyError(res: ServerResponse, error: unknown, limit: number): boolean {
  const read = bodyReadError(error);
  if (!read) return false;
  if (read.code === 'payload_too_large') sendProblem(res, 413, read.code, `The webhook body is larger than ${limit} bytes, more than the Cloud API ever sends.`);
  else sendProblem(res, read.status, read.code, 'The webhook body could not be read.');
  return true;
}
