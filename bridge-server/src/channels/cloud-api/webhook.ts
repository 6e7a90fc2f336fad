import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { sendProblem } from '../../api/problem.js';
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

/**
 * The Cloud API webhook, mounted by the app at `/webhooks/whatsapp`.
 * GET answers the verify-token handshake. POST reads the raw body, checks its signature before
 * anything else, validates and normalizes it, hands it to `onBatch`, and answers 200 only once that
 * resolves. 4xx answers are problem documents that never quote secrets or message text.
 */
export function createCloudWebhookRouter(options: CloudWebhookOptions): Router {
  if (options.appSecret === '') throw new ConfigError('appSecret: the Cloud API App Secret is empty; copy it from the Meta App Dashboard.');
  if (options.verifyToken === '') throw new ConfigError('verifyToken: the Cloud API webhook verify token is empty; an empty token would let anyone subscribe.');
  const limit = options.maxBodyBytes ?? defaultWebhookBodyLimit;

  const router = Router();
  router.get('/', (req, res) => answerVerification(req, res, options.verifyToken));
  router.post(
    '/',
    // Any content type: the signature is over whatever bytes arrived, so none may be rejected or
    // rewritten by a parser picked on Content-Type.
    express.raw({ type: () => true, limit }),
    bodyReadErrors(limit),
    async (req: Request, res: Response) => {
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signature = checkSignature(options.appSecret, body, req.get('x-hub-signature-256'));
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
      res.status(200).json({});
    },
  );
  return router;
}

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

function refuseSignature(res: Response, check: Exclude<SignatureCheck, 'valid'>): void {
  if (check === 'missing') {
    return sendProblem(res, 401, 'signature_missing', 'The X-Hub-Signature-256 header is missing; every Cloud API delivery is signed with the App Secret.');
  }
  sendProblem(res, 401, 'signature_mismatch', 'The X-Hub-Signature-256 header does not match the body; check that the configured App Secret is the one of the subscribed Meta app.');
}

/** Errors of the raw-body reader (too large, aborted, bad encoding) answered here as problems. */
function bodyReadErrors(limit: number): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    const { type, status } = (typeof error === 'object' && error !== null ? error : {}) as { type?: unknown; status?: unknown };
    if (type === 'entity.too.large') {
      return sendProblem(res, 413, 'payload_too_large', `The webhook body is larger than ${limit} bytes, more than the Cloud API ever sends.`);
    }
    if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
      return sendProblem(res, status, 'bad_request', 'The webhook body could not be read.');
    }
    next(error);
  };
}
