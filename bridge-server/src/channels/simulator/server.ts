import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  defaultSimulatedBusiness,
  inboundMessage,
  newWaMessageId,
  statusUpdate,
  type InboundMessageInput,
  type MediaInput,
  type SimulatedBusiness,
  type StatusInput,
  type WebhookEnvelope,
} from './builders.js';
import { postSignedWebhook, type WebhookSignature } from './client.js';
import { invalidParameter, invalidToken, sendGraphError, unknownObject } from './graph-error.js';
import { simulatorLabel } from './label.js';
import { MediaRegistry } from './media-registry.js';
import { parseMultipart } from './multipart.js';
import { checkSendRequest } from './send-request.js';

export interface SimulatorOptions {
  /** 0 or absent: a free port. */
  port?: number;
  host?: string;
  /** Key of X-Hub-Signature-256 on the webhooks it posts. */
  appSecret: string;
  /** The only bearer token its Graph endpoints accept. */
  accessToken: string;
  /** Where postWebhook delivers (the bridge's /webhooks/whatsapp). */
  webhookUrl?: string;
  phoneNumberId?: string;
  displayPhoneNumber?: string;
  wabaId?: string;
  /** Lifetime of media download URLs; default five minutes, as Meta's. */
  mediaUrlTtlMs?: number;
  /**
   * After each accepted send, post its status webhooks as a phone would cause them: `sent` at
   * once, `delivered` after about 500 ms, `read` after about 1.5 s. Default false (tests post
   * statuses themselves).
   */
  autoStatuses?: boolean;
  /** Called when an automatic status webhook could not be posted (the bridge not answering). */
  onAutoStatusError?: (error: Error) => void;
}

export type DeliveryState = 'sent' | 'delivered' | 'read';

export interface SentRequest {
  apiVersion: string;
  phoneNumberId: string;
  /** The wamid the simulator answered with. */
  waMessageId: string;
  to: string;
  type: string;
  body: Record<string, unknown>;
  receivedAt: number;
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:41234; use it as WA_BRIDGE_CLOUD_API_BASE_URL. */
  readonly url: string;
  readonly business: SimulatedBusiness;
  readonly appSecret: string;
  readonly accessToken: string;
  webhookUrl: string | undefined;
  /** Accepted `/messages` sends, oldest first. */
  readonly sent: SentRequest[];
  /** Accepted mark-as-read requests: the wamids marked. */
  readonly readReceipts: string[];
  /** The latest automatic status posted for a sent wamid (autoStatuses only); undefined before any. */
  deliveryState(waMessageId: string): DeliveryState | undefined;
  /**
   * Posts a webhook to `webhookUrl`. Objects are serialized as Meta does (escaped unicode); strings
   * and buffers go as they are. The signature covers exactly the bytes sent: 'valid' (default),
   * 'bad' (signed with another key) or 'none' (no header).
   */
  postWebhook(payload: object | string | Buffer, opts?: { signature?: WebhookSignature }): Promise<{ status: number; body: string }>;
  /** Media the simulator holds (uploaded by a bridge or added by a test), by media id. */
  mediaById(id: string): { bytes: Buffer; mimeType: string } | undefined;
  /** Registers media to serve; the result plugs into inboundMessage's `media`. */
  addMedia(bytes: Buffer, mimeType: string): MediaInput & { id: string; sha256: string };
  inboundMessage(input: InboundMessageInput): WebhookEnvelope;
  statusUpdate(input: StatusInput): WebhookEnvelope;
  /** The next `count` media downloads answer `status` (to test retries). */
  failNextMediaDownloads(count: number, status: number): void;
  /** The next `count` sends answer `status` with Graph error `code` (e.g. 131047 outside the window). */
  failNextSends(count: number, status: number, code?: number): void;
  /**
   * The next `count` sends are taken (recorded in `sent`, statuses scheduled) but the connection
   * closes before the answer: the sender cannot tell whether WhatsApp has the message.
   */
  loseNextSendAnswers(count: number): void;
  stop(): Promise<void>;
}

/** Starts the simulator on loopback (by default) and resolves once it listens. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const business: SimulatedBusiness = {
    wabaId: options.wabaId ?? defaultSimulatedBusiness.wabaId,
    phoneNumberId: options.phoneNumberId ?? defaultSimulatedBusiness.phoneNumberId,
    displayPhoneNumber: options.displayPhoneNumber ?? defaultSimulatedBusiness.displayPhoneNumber,
  };
  const media = new MediaRegistry(options.mediaUrlTtlMs);
  const faults = { downloads: { count: 0, status: 500 }, sends: { count: 0, status: 400, code: 131000 }, lostAnswers: 0 };
  const sent: SentRequest[] = [];
  const readReceipts: string[] = [];
  const deliveryStates = new Map<string, DeliveryState>();
  const statusTimers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let baseUrl = '';

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set('X-Simulator', simulatorLabel);
    next();
  });
  const bearer = requireBearer(options.accessToken);

  app.get('/', (_req, res) => {
    res.type('text/plain').send(`${simulatorLabel}.\nGraph endpoints: GET /{version}/{media-id}, POST /{version}/{phone-number-id}/messages, POST /{version}/{phone-number-id}/media.\n`);
  });

  // Step 2 of the media download (Meta Media reference): same bearer header as the lookup.
  app.get('/whatsapp_business/attachments/', bearer, (req, res) => {
    if (faults.downloads.count > 0) {
      faults.downloads.count -= 1;
      return sendGraphError(res, faults.downloads.status, { message: 'Simulated download failure', type: 'OAuthException', code: 2 });
    }
    const item = media.resolveDownload(queryStrings(req.query, ['mid', 'ext', 'hash']), Date.now());
    // Meta answers a failed (e.g. expired) download with 404 and advises a fresh lookup.
    if (!item) return sendGraphError(res, 404, { message: 'Media URL expired or not found; look the media id up again.', type: 'OAuthException', code: 100 });
    res.status(200).type(item.mimeType).set('Content-Length', String(item.bytes.length)).send(item.bytes);
  });

  // Step 1: media id -> short-lived URL. phone_number_id, when given, must be the owner's.
  app.get('/:version/:mediaId', bearer, (req, res, next) => {
    const [version, mediaId] = [paramOf(req.params.version), paramOf(req.params.mediaId)];
    if (!isApiVersion(version)) return next();
    const item = media.get(mediaId);
    const { phone_number_id: phoneNumberId } = queryStrings(req.query, ['phone_number_id']);
    if (!item || (phoneNumberId !== undefined && phoneNumberId !== item.phoneNumberId)) {
      return sendGraphError(res, 400, unknownObject(mediaId, 'get'));
    }
    res.json({ messaging_product: 'whatsapp', url: media.downloadUrl(baseUrl, item.id, Date.now()), mime_type: item.mimeType, sha256: item.sha256Hex, file_size: item.bytes.length, id: item.id });
  });

  app.post('/:version/:phoneNumberId/messages', bearer, express.json({ type: () => true, limit: '1mb' }), (req, res, next) => {
    const [version, phoneNumberId] = [paramOf(req.params.version), paramOf(req.params.phoneNumberId)];
    if (!isApiVersion(version)) return next();
    if (phoneNumberId !== business.phoneNumberId) return sendGraphError(res, 400, unknownObject(phoneNumberId, 'post'));
    const check = checkSendRequest(req.body);
    if (check.kind === 'invalid') return sendGraphError(res, 400, invalidParameter(check.details));
    if (check.kind === 'read') {
      readReceipts.push(check.messageId);
      return res.json({ success: true });
    }
    if (faults.sends.count > 0) {
      faults.sends.count -= 1;
      return sendGraphError(res, faults.sends.status, { message: `(#${faults.sends.code}) Simulated send failure`, type: 'OAuthException', code: faults.sends.code, details: 'Simulated by the wa-bridge simulator.' });
    }
    const waMessageId = newWaMessageId();
    sent.push({ apiVersion: version, phoneNumberId, waMessageId, to: check.to, type: check.type, body: req.body as Record<string, unknown>, receivedAt: Date.now() });
    // Meta returns the send's biz_opaque_callback_data on each of its statuses.
    const callback = (req.body as { biz_opaque_callback_data?: unknown }).biz_opaque_callback_data;
    const callbackData = typeof callback === 'string' && callback !== '' ? callback : undefined;
    if (faults.lostAnswers > 0) {
      faults.lostAnswers -= 1;
      if (options.autoStatuses) scheduleStatuses(waMessageId, check.to, callbackData);
      return void req.socket.destroy();
    }
    res.json({ messaging_product: 'whatsapp', contacts: [recipientContact(check.to)], messages: [{ id: waMessageId }] });
    if (options.autoStatuses) scheduleStatuses(waMessageId, check.to, callbackData);
  });

  // Upload (Meta Media reference): multipart with messaging_product, file and type; answers {id}.
  app.post('/:version/:phoneNumberId/media', bearer, express.raw({ type: () => true, limit: '110mb' }), (req, res, next) => {
    const [version, phoneNumberId] = [paramOf(req.params.version), paramOf(req.params.phoneNumberId)];
    if (!isApiVersion(version)) return next();
    if (phoneNumberId !== business.phoneNumberId) return sendGraphError(res, 400, unknownObject(phoneNumberId, 'post'));
    const parts = Buffer.isBuffer(req.body) ? parseMultipart(req.body, req.get('content-type')) : undefined;
    const file = parts?.find((part) => part.name === 'file');
    const product = parts?.find((part) => part.name === 'messaging_product')?.data.toString('utf8');
    const mimeType = parts?.find((part) => part.name === 'type')?.data.toString('utf8') ?? file?.contentType;
    if (!file || product !== 'whatsapp' || !mimeType) {
      return sendGraphError(res, 400, invalidParameter('expected multipart/form-data with messaging_product=whatsapp, file and type'));
    }
    res.json({ id: media.add(file.data, mimeType, phoneNumberId).id });
  });

  app.use((req, res) => sendGraphError(res, 400, { message: `Unknown path components: ${req.path}`, type: 'OAuthException', code: 2500 }));
  app.use(((_error, _req, res, _next) => {
    sendGraphError(res, 400, invalidParameter('the request body could not be read'));
  }) satisfies ErrorRequestHandler);

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;

  /** Each step waits for the previous webhook's answer, so the bridge sees them in order. */
  function scheduleStatuses(waMessageId: string, to: string, callbackData: string | undefined): void {
    const recipientId = to.replace(/\D/g, '');
    const steps: Array<[DeliveryState, number]> = [
      ['sent', 0],
      ['delivered', 500],
      ['read', 1000],
    ];
    const next = (index: number): void => {
      const step = steps[index];
      if (!step || stopped) return;
      const timer = setTimeout(() => {
        statusTimers.delete(timer);
        if (stopped) return;
        const envelope = statusUpdate({ id: waMessageId, status: step[0], recipientId, ...(callbackData ? { callbackData } : {}) }, business);
        simulator.postWebhook(envelope).then(
          () => {
            // Once the bridge has answered: the state says what it has been told.
            deliveryStates.set(waMessageId, step[0]);
            next(index + 1);
          },
          (error: unknown) => {
            if (!stopped) options.onAutoStatusError?.(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }, step[1]);
      timer.unref();
      statusTimers.add(timer);
    };
    next(0);
  }

  const simulator: Simulator = {
    url: baseUrl,
    business,
    appSecret: options.appSecret,
    accessToken: options.accessToken,
    webhookUrl: options.webhookUrl,
    sent,
    readReceipts,
    deliveryState: (waMessageId) => deliveryStates.get(waMessageId),
    async postWebhook(payload, opts = {}) {
      const target = simulator.webhookUrl;
      if (!target) throw new Error('simulator: no webhookUrl to post to; pass webhookUrl to startSimulator or set simulator.webhookUrl');
      return postSignedWebhook(target, options.appSecret, payload, opts.signature);
    },
    mediaById(id) {
      const item = media.get(id);
      return item ? { bytes: item.bytes, mimeType: item.mimeType } : undefined;
    },
    addMedia(bytes, mimeType) {
      const item = media.add(bytes, mimeType, business.phoneNumberId);
      return { id: item.id, sha256: item.sha256Base64, mimeType };
    },
    inboundMessage: (input) => inboundMessage(input, business),
    statusUpdate: (input) => statusUpdate(input, business),
    failNextMediaDownloads(count, status) {
      faults.downloads = { count, status };
    },
    failNextSends(count, status, code = 131000) {
      faults.sends = { count, status, code };
    },
    loseNextSendAnswers(count) {
      faults.lostAnswers = count;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        stopped = true;
        for (const timer of statusTimers) clearTimeout(timer);
        statusTimers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  return simulator;
}

function requireBearer(accessToken: string): RequestHandler {
  const expected = createHash('sha256').update(accessToken).digest();
  return (req, res, next) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const given = createHash('sha256').update(token ?? '').digest();
    if (token === undefined || !timingSafeEqual(given, expected)) return sendGraphError(res, 401, invalidToken);
    next();
  };
}

const isApiVersion = (version: string): boolean => /^v\d+\.\d+$/.test(version);
const paramOf = (value: string | string[] | undefined): string => (typeof value === 'string' ? value : '');

/** BSUID sends answer wa_id "" plus user_id (BSUID doc, "Send message response"). */
function recipientContact(to: string): Record<string, string> {
  return /^\+?[\d\s().-]+$/.test(to) ? { input: to, wa_id: to.replace(/\D/g, '') } : { input: to, wa_id: '', user_id: to };
}

function queryStrings<K extends string>(query: unknown, keys: K[]): Partial<Record<K, string>> {
  const source = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = source[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}
