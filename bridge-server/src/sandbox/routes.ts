import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { sendProblem } from '../api/problem.js';
import { isBridgeError } from '../core/errors.js';
import { safeFileName, safeMimeType } from '../core/file-name.js';
import type { CaughtMail, MailCatcher } from './catcher.js';
import { attachmentOf, toMailView, type MailView } from './mail-view.js';
import { maxMessageBodyBytes, maxReplyBodyBytes, parseSandboxMessage, parseSolicitorReply } from './message-input.js';
import { renderSandboxPage, sandboxPagePolicy } from './page.js';

/**
 * The sandbox's HTTP surface, mounted at /sandbox: the page, the "client's phone" that sends
 * through the WhatsApp simulator, and read-only views of the mail catcher. Only ever mounted when
 * no real WhatsApp number or mailbox is configured.
 */

export interface SandboxClient {
  /**
   * Sends a message as the WhatsApp client, through the simulator's signed webhook. Resolves when
   * the bridge answered the webhook (i.e. the message is stored). `phone` is E.164 (`+447700900123`);
   * `text`, when given, is not blank. Throws a BridgeError (shown to the person as it is) or any
   * other error (a 500 with a log id).
   */
  sendAsClient(input: { name: string; phone: string; text?: string; file?: { fileName: string; mimeType: string; bytes: Buffer } }): Promise<{ waMessageId: string }>;
}

/** The pretend solicitor who answers threads from the mailbox pane (see solicitor.ts). */
export interface SandboxSolicitor {
  /**
   * Answers `mail` as a mail client would and hands the reply to the bridge's reply intake.
   * Resolves with the intake's 250 answer; throws a BridgeError when the intake refused it.
   */
  reply(input: { mail: CaughtMail; text: string; file?: { fileName: string; mimeType: string; bytes: Buffer } }): Promise<{ response: string }>;
}

/** What the firm sent to one WhatsApp number, as the client's phone shows it. */
export interface PhoneMessage {
  waMessageId: string;
  /** The Cloud API message type: text, image, document, template… */
  type: string;
  /** The text, or a media message's caption. */
  text?: string;
  fileName?: string;
  /** A photo or sticker: the phone shows it, read from GET /api/phone/pictures/:waMessageId. */
  picture?: true;
  /** When the simulator accepted the send (ms since the epoch). */
  sentAt: number;
  /** `accepted` until the first status webhook went out. */
  state: 'accepted' | 'sent' | 'delivered' | 'read';
}

/** What the client sent from one WhatsApp number and the bridge stored, as the phone shows it. */
export interface ClientMessage {
  waMessageId: string;
  text?: string;
  /** A document's name; a photo has none on WhatsApp, and shows as its picture. */
  fileName?: string;
  /** A photo: the phone shows it, read from GET /api/phone/pictures/:waMessageId. */
  picture?: true;
  /** When the bridge answered the webhook (ms since the epoch). */
  sentAt: number;
}

export interface SandboxPhone {
  /** The firm's messages to `phone` (E.164), oldest first. */
  messages(phone: string): PhoneMessage[];
  /** The client's messages from `phone` (E.164) that the bridge stored, oldest first. */
  sentFrom(phone: string): ClientMessage[];
  /**
   * The picture of a photo or sticker message of either side, as the bridge archived it; undefined
   * when there is none (yet: the bridge downloads a client's photo a moment after storing the message).
   */
  picture(waMessageId: string): Promise<{ bytes: Buffer; mimeType: string } | undefined>;
}

export interface SandboxRouterOptions {
  catcher: MailCatcher;
  client: SandboxClient;
  solicitor: SandboxSolicitor;
  phone: SandboxPhone;
  /** The firm's (simulated) WhatsApp business number, shown on the page. */
  firmNumber: string;
  /** The mailbox the bridge relays to, shown on the page. */
  mailbox: string;
}

export type MailViewWithLinks = MailView & { rawUrl: string; attachments: Array<MailView['attachments'][number] & { url: string }> };

const heartbeatMs = 15_000;
/** A Cloud API message id as WhatsApp and the simulator write them: wamid. and base64. */
const waMessageIdPattern = /^wamid\.[A-Za-z0-9+/=_-]{1,250}$/;

export function createSandboxRouter(options: SandboxRouterOptions): express.Router {
  const { catcher, client } = options;
  const router = express.Router();
  const views = new Map<number, Promise<MailView>>();

  // Parsing is lazy and cached: the page asks for the whole list on every (re)connect.
  const viewOf = (mail: CaughtMail): Promise<MailView> => {
    let view = views.get(mail.id);
    if (!view) {
      view = toMailView(mail);
      views.set(mail.id, view);
    }
    return view;
  };
  const forgetEvicted = (): void => {
    const kept = new Set(catcher.mails().map((mail) => mail.id));
    for (const id of views.keys()) if (!kept.has(id)) views.delete(id);
  };
  const findMail = (req: Request, res: Response): CaughtMail | undefined => {
    const raw = String(req.params.id);
    const mail = /^\d{1,12}$/.test(raw) ? catcher.get(Number(raw)) : undefined;
    if (!mail) sendProblem(res, 404, 'not_found', `No caught mail has id ${JSON.stringify(raw.slice(0, 40))}; the sandbox keeps only the newest mails, in memory.`);
    return mail;
  };

  router.get('/', (req, res) => {
    res.set({ 'Content-Security-Policy': sandboxPagePolicy, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.type('html').send(renderSandboxPage({ basePath: req.baseUrl, firmNumber: options.firmNumber, mailbox: options.mailbox }));
  });

  router.post('/api/messages', express.json({ limit: maxMessageBodyBytes }), async (req, res) => {
    const input = parseSandboxMessage(req.body);
    if (!input.ok) return sendProblem(res, 400, 'bad_message', 'The message was not sent; see errors for each field.', input.errors);
    try {
      const { waMessageId } = await client.sendAsClient(input.value);
      res.status(202).json({ waMessageId });
    } catch (error) {
      if (!isBridgeError(error)) throw error;
      sendProblem(res, error.status, error.code, error.message, error.details);
    }
  });
  router.use('/api/messages', bodyErrors);

  router.post('/api/replies', express.json({ limit: maxReplyBodyBytes }), async (req, res) => {
    const input = parseSolicitorReply(req.body);
    if (!input.ok) return sendProblem(res, 400, 'bad_reply', 'The reply was not sent; see errors for each field.', input.errors);
    const mail = catcher.get(input.value.mailId);
    if (!mail) return sendProblem(res, 404, 'not_found', `No caught mail has id ${input.value.mailId}; the sandbox keeps only the newest mails, in memory.`);
    try {
      const { response } = await options.solicitor.reply({ mail, text: input.value.text, ...(input.value.file ? { file: input.value.file } : {}) });
      res.status(202).json({ response });
    } catch (error) {
      if (!isBridgeError(error)) throw error;
      sendProblem(res, error.status, error.code, error.message, error.details);
    }
  });
  router.use('/api/replies', bodyErrors);

  router.get('/api/phone', (req, res) => {
    const raw = typeof req.query.phone === 'string' ? req.query.phone : '';
    const digits = raw.replace(/\D/g, '');
    if (!/^\+?[0-9 ().-]+$/.test(raw) || !/^\d{8,15}$/.test(digits)) {
      return sendProblem(res, 400, 'bad_phone', 'Give the phone as ?phone= in international form, 8 to 15 digits, e.g. +447700900123.', [{ path: 'phone', message: 'Expected 8 to 15 digits.' }]);
    }
    const phone = `+${digits}`;
    res.set('Cache-Control', 'no-store').json({ phone, messages: options.phone.messages(phone), sent: options.phone.sentFrom(phone) });
  });

  router.get('/api/phone/pictures/:waMessageId', async (req, res) => {
    const id = String(req.params.waMessageId);
    const picture = waMessageIdPattern.test(id) ? await options.phone.picture(id) : undefined;
    if (!picture) return sendProblem(res, 404, 'not_found', `No picture is stored for message ${JSON.stringify(id.slice(0, 80))}; a client's photo is there a moment after the message.`);
    // Archived bytes, shown only as a picture: never sniffed into a page, never run.
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': "sandbox; default-src 'none'", 'Cache-Control': 'private, max-age=3600' });
    res.type(picture.mimeType).send(picture.bytes);
  });

  router.get('/api/mails', async (req, res) => {
    forgetEvicted();
    const mails = await Promise.all(catcher.mails().map(viewOf));
    res.set('Cache-Control', 'no-store').json({ mails: mails.map((view) => withLinks(view, req.baseUrl)) });
  });

  router.get('/api/mails/:id', async (req, res) => {
    const mail = findMail(req, res);
    if (mail) res.set('Cache-Control', 'no-store').json(withLinks(await viewOf(mail), req.baseUrl));
  });

  router.get('/api/mails/:id/raw', (req, res) => {
    const mail = findMail(req, res);
    if (!mail) return;
    // Inline as text for reading in a tab; ?download gives the .eml a mail client opens.
    const download = req.query.download !== undefined;
    lockDown(res);
    res.type(download ? 'message/rfc822' : 'text/plain; charset=utf-8');
    res.set('Content-Disposition', `${download ? 'attachment' : 'inline'}; filename="mail-${mail.id}.eml"`);
    res.send(mail.raw);
  });

  router.get('/api/mails/:id/attachments/:n', async (req, res) => {
    const mail = findMail(req, res);
    if (!mail) return;
    const n = String(req.params.n);
    const attachment = /^\d{1,4}$/.test(n) ? await attachmentOf(mail, Number(n)) : undefined;
    if (!attachment) return sendProblem(res, 404, 'not_found', `Mail ${mail.id} has no attachment number ${JSON.stringify(n.slice(0, 10))} (they count from 0).`);
    lockDown(res);
    res.attachment(safeFileName(attachment.filename ?? '', `attachment-${Number(n) + 1}`));
    res.type(safeMimeType(attachment.contentType));
    res.send(attachment.content);
  });

  router.get('/api/events', (req, res) => {
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    const announce = (mail: CaughtMail) => res.write(`event: mail\nid: ${mail.id}\ndata: ${JSON.stringify({ id: mail.id })}\n\n`);
    res.write('retry: 2000\n\n');
    // EventSource sends the last id it saw when it reconnects: replay what it missed meanwhile.
    const lastSeen = Number(req.get('Last-Event-ID'));
    if (Number.isInteger(lastSeen) && lastSeen > 0) for (const mail of catcher.mails()) if (mail.id > lastSeen) announce(mail);
    const unsubscribe = catcher.onMail(announce);
    // A comment line keeps proxies and idle timeouts from closing a quiet stream.
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });

  return router;
}

function withLinks(view: MailView, basePath: string): MailViewWithLinks {
  const mailPath = `${basePath}/api/mails/${view.id}`;
  return { ...view, rawUrl: `${mailPath}/raw`, attachments: view.attachments.map((attachment) => ({ ...attachment, url: `${mailPath}/attachments/${attachment.index}` })) };
}

/** Bytes from a mail are served as data: never sniffed into HTML, never run, never cached. */
function lockDown(res: Response): void {
  res.set({ 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': "sandbox; default-src 'none'", 'Cache-Control': 'no-store' });
}

/** body-parser's errors for the message endpoint, worded for the person at the composer. */
const bodyErrors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  if (type === 'entity.too.large') return sendProblem(res, 413, 'payload_too_large', 'The message is too large: the sandbox accepts a file of up to 16 MB and a text of up to 4096 characters.');
  if (type === 'entity.parse.failed') return sendProblem(res, 400, 'bad_json', 'The request body is not valid JSON.');
  next(error);
};
