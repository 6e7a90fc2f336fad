import type { NormalizedBatch } from '../../core/events.js';
import { catchUpChat, defaultCatchUpOptions, type CatchUpOptions } from './catch-up.js';
import type { CatchUpMarks } from './catch-up-marks.js';
import { ChatQueues, Semaphore } from './chat-queue.js';
import type { WebChat, WebClient, WebClientEvent, WebClientEvents, WebMessage, WebReaction } from './client-port.js';
import { ContextResolver } from './context.js';
import { chatIdOf, isClientChat, reactionChatIdOf } from './jid.js';
import { describeError, type WebLogger } from './log-port.js';
import { normalizeAck, normalizeEdit, normalizeMessage, normalizeReaction, normalizeRevoke } from './normalize.js';
import { renderQrTerminal } from './qr.js';
import { destroyQuietly, reconnectDelay, withTimeout } from './reconnect.js';

export const sessionStates = ['starting', 'qr', 'pairing-code', 'ready', 'disconnected', 'standby', 'stopped'] as const;
export type SessionState = (typeof sessionStates)[number];

/** What the admin page and /readyz show about the linked WhatsApp number. */
export interface SessionStatus {
  state: SessionState;
  /** When the session entered this state, ms. */
  since: number;
  /** The QR string to scan, while `state` is 'qr' (render with qr.ts). */
  qr?: string;
  /** The code to type on the phone, while `state` is 'pairing-code'. */
  pairingCode?: string;
  /** The linked number's digits, once it has been ready. */
  businessId?: string;
  /** The last failure: initialize error, disconnect reason, auth failure. */
  lastError?: string;
  /** Reconnects since the last `ready`. */
  reconnectAttempt: number;
  /** When the next reconnect starts, while `state` is 'disconnected'. */
  nextAttemptAt?: number;
  /** While `state` is 'standby': why, e.g. which bridge instance runs the session. */
  standby?: string;
}

export interface WhatsAppWebSessionOptions {
  /** Builds a fresh client: createWebClient in app.ts, a test double in tests. */
  createClient: () => WebClient | Promise<WebClient>;
  /**
   * The ingest flow. Resolves once the batch is committed; rejects when it is not. Replays are
   * harmless: ingest skips events whose ids it has stored.
   */
  onBatch: (batch: NormalizedBatch) => Promise<void>;
  marks: CatchUpMarks;
  logger: WebLogger;
  /** Writes to the operator's terminal (the QR code, the pairing code). Default: nothing. */
  print?: (text: string) => void;
  now?: () => number;
  /** [0, 1); jitter for the reconnect delay. */
  random?: () => number;
  /** Reconnect delay: `initialDelayMs` doubling up to `maxDelayMs`, with jitter. Defaults 1 s and 5 min. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  catchUp?: Partial<CatchUpOptions>;
  /** Restart when neither a QR code nor `ready` came this long after starting (whatsapp-web.js known issues). Default 5 min. */
  startTimeoutMs?: number;
  /** How long stop() waits for in-flight deliveries and for the browser to close. Default 15 s. */
  stopTimeoutMs?: number;
}

type LiveWork = (resolver: ContextResolver) => Promise<{ batch: NormalizedBatch; mark?: number }>;

/**
 * Owns the one whatsapp-web.js client of the linked number: QR or
 * pairing-code linking, the catch-up after every `ready`, live events, and reconnecting with
 * backoff, forever until stop(). Events go to `onBatch` one chat at a time, in order. The
 * catch-up marks of a chat move only after `onBatch` resolved; a failed delivery freezes the
 * chat's mark and schedules another catch-up, which hands the events over again.
 */
export class WhatsAppWebSession {
  private readonly options: WhatsAppWebSessionOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly catchUpOptions: CatchUpOptions;
  private readonly queues = new ChatQueues();
  /** Per chat, the bridge's sends still in flight; the echo of each waits for them. */
  private readonly bridgeSends = new Map<string, Promise<void>>();
  /** Ids of messages the bridge sent whose echo has not come yet. */
  private readonly sentByBridge = new Set<string>();
  private readonly fetching: Semaphore;
  private readonly statusListeners = new Set<(status: SessionStatus) => void>();
  /** Chats whose last delivery failed: their mark waits for a catch-up to succeed. */
  private readonly behind = new Set<string>();
  private current: SessionStatus;
  private client: WebClient | undefined;
  private detach: (() => void) | undefined;
  private resolver: ContextResolver | undefined;
  private generation = 0;
  private started = false;
  private stopped = false;
  private everReady = false;
  private printedQr: string | undefined;
  private catchUpGate: Promise<void> = Promise.resolve();
  private catchUpAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private catchUpTimer: NodeJS.Timeout | undefined;

  constructor(options: WhatsAppWebSessionOptions) {
    this.options = options;
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.catchUpOptions = { ...defaultCatchUpOptions, ...options.catchUp };
    this.fetching = new Semaphore(Math.max(1, this.catchUpOptions.concurrency));
    this.current = { state: 'starting', since: this.now(), reconnectAttempt: 0 };
  }

  /** Starts the first client. Returns at once; progress shows in status(). Calling it twice does nothing. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.connect();
  }

  /**
   * Stops for good: no reconnect, no new deliveries; waits (bounded) for deliveries in flight,
   * then closes the browser so LocalAuth's profile is saved (whatsapp-web.js known issues). Never throws.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.generation += 1;
    for (const timer of [this.reconnectTimer, this.watchdogTimer, this.catchUpTimer]) clearTimeout(timer);
    const client = this.client;
    this.detach?.();
    this.client = undefined;
    const limit = this.options.stopTimeoutMs ?? 15_000;
    await withTimeout(this.queues.idle(), limit);
    if (client) await withTimeout(destroyQuietly(client, this.options.logger), limit);
    this.setState('stopped', {});
    this.options.logger.info({}, 'WhatsApp Web session stopped');
  }

  /**
   * Closes the client without ending the session for good: another bridge instance owns the
   * linked number now (or this one could no longer prove it does). Sends and downloads are
   * refused at once; start() runs the session here again. Never throws.
   */
  async standBy(reason: string): Promise<void> {
    if (this.stopped) return;
    this.started = false;
    this.generation += 1;
    for (const timer of [this.reconnectTimer, this.watchdogTimer, this.catchUpTimer]) clearTimeout(timer);
    this.reconnectTimer = undefined;
    const client = this.client;
    this.detach?.();
    this.client = undefined;
    this.detach = undefined;
    this.resolver = undefined;
    this.setState('standby', { standby: reason, reconnectAttempt: 0 });
    this.options.logger.info({ reason }, 'WhatsApp Web session on standby');
    const limit = this.options.stopTimeoutMs ?? 15_000;
    await withTimeout(this.queues.idle(), limit);
    if (client) await withTimeout(destroyQuietly(client, this.options.logger), limit);
  }

  /** A snapshot of the state, for the admin page and health checks. Never blocks. */
  status(): SessionStatus {
    return { ...this.current };
  }

  /** Calls `listener` on every status change; returns the function that unsubscribes. */
  onStatus(listener: (status: SessionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** The client while it is ready to send and download, with the linked number; else undefined. */
  readyClient(): { client: WebClient; businessId: string } | undefined {
    const businessId = this.current.businessId;
    if (this.stopped || this.current.state !== 'ready' || !this.client || !businessId) return undefined;
    return { client: this.client, businessId };
  }

  /** Runs a catch-up now (it also runs after every `ready`). Resolves when every chat was tried. */
  async catchUp(): Promise<void> {
    await this.runCatchUp(this.generation);
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.setState('starting', { reconnectAttempt: this.current.reconnectAttempt, lastError: this.current.lastError, businessId: this.current.businessId });
    let client: WebClient;
    try {
      client = await this.options.createClient();
    } catch (error) {
      this.fail(generation, 'could not create the WhatsApp Web client', error);
      return;
    }
    if (generation !== this.generation) {
      await destroyQuietly(client, this.options.logger);
      return;
    }
    this.client = client;
    this.detach = this.attach(client, generation);
    this.armWatchdog(generation);
    try {
      await client.initialize();
    } catch (error) {
      // Offline, no Chromium, or WhatsApp Web changed under the pinned library version.
      this.fail(generation, 'WhatsApp Web failed to start', error);
    }
  }

  private attach(client: WebClient, generation: number): () => void {
    const live = () => generation === this.generation && !this.stopped;
    const handlers: { [E in WebClientEvent]: WebClientEvents[E] } = {
      qr: (qr) => live() && this.onQr(qr),
      code: (code) => live() && this.onPairingCode(code),
      authenticated: () => live() && this.onAuthenticated(generation),
      auth_failure: (message) => live() && this.fail(generation, 'WhatsApp Web authentication failed', new Error(String(message))),
      ready: () => live() && this.onReady(client, generation),
      // The library destroys the client itself after this event (whatsapp-web.js docs): start a new one.
      disconnected: (reason) => live() && this.fail(generation, 'WhatsApp Web disconnected', new Error(`disconnected: ${String(reason)}`)),
      message_create: (message) => live() && this.onMessage(message),
      message_edit: (message, newBody, prevBody) => live() && this.onEdit(message, String(newBody), String(prevBody)),
      message_revoke_everyone: (after, before) => live() && this.onRevoke(after, before),
      message_reaction: (reaction) => live() && this.onReaction(reaction),
      message_ack: (message, ack) => live() && this.onAck(message, ack),
    };
    const events = Object.keys(handlers) as WebClientEvent[];
    for (const event of events) client.on(event, handlers[event]);
    return () => {
      for (const event of events) client.removeListener(event, handlers[event]);
    };
  }

  private onQr(qr: string): void {
    clearTimeout(this.watchdogTimer);
    if (qr === this.current.qr && this.current.state === 'qr') return;
    if (this.everReady) this.options.logger.warn({}, 'WhatsApp Web asks for the phone to be linked again (QR code); the linked device was logged out');
    this.setState('qr', { qr });
    if (qr === this.printedQr) return;
    this.printedQr = qr;
    const print = this.options.print;
    if (!print) return;
    renderQrTerminal(qr).then(
      (text) => print(`\nLink the firm's WhatsApp: on the phone open Settings > Linked devices > Link a device and scan:\n${text}`),
      (error: unknown) => this.options.logger.warn(describeError(error), 'could not render the QR code for the terminal'),
    );
  }

  private onPairingCode(code: string): void {
    clearTimeout(this.watchdogTimer);
    const changed = code !== this.current.pairingCode;
    this.setState('pairing-code', { pairingCode: code });
    if (changed) this.options.print?.(`\nLink the firm's WhatsApp: on the phone open Linked devices > Link with phone number and enter ${code}\n`);
  }

  /** Linked (or the saved session restored): the QR code is used up; WhatsApp Web now syncs until `ready`. */
  private onAuthenticated(generation: number): void {
    this.options.logger.info({}, 'WhatsApp Web authenticated');
    this.printedQr = undefined;
    this.setState('starting', { lastError: this.current.lastError });
    this.armWatchdog(generation);
  }

  private onReady(client: WebClient, generation: number): void {
    const businessId = client.info?.wid.user;
    if (!businessId) {
      this.fail(generation, 'WhatsApp Web was ready without naming the linked number', new Error('client.info.wid missing'));
      return;
    }
    clearTimeout(this.watchdogTimer);
    this.everReady = true;
    this.printedQr = undefined;
    this.resolver = new ContextResolver(client, { id: businessId, displayNumber: businessId }, this.options.logger);
    this.setState('ready', { businessId, lastError: this.current.lastError, reconnectAttempt: 0 });
    this.options.logger.info({ businessId }, 'WhatsApp Web ready; catching up');
    void this.runCatchUp(generation);
  }

  /**
   * Disconnect, auth failure or failed start: close this client and start a new one after
   * 1 s, 2 s, 4 s ... up to 5 min (with jitter), for as long as the session runs.
   */
  private fail(generation: number, what: string, error: unknown): void {
    if (generation !== this.generation || this.stopped || this.reconnectTimer) return;
    const reason = describeError(error).error;
    this.options.logger.warn({ error: reason, reconnectAttempt: this.current.reconnectAttempt + 1 }, what);
    clearTimeout(this.watchdogTimer);
    this.generation += 1;
    const client = this.client;
    this.detach?.();
    this.client = undefined;
    this.detach = undefined;
    this.resolver = undefined;
    if (client) void destroyQuietly(client, this.options.logger);
    const attempt = this.current.reconnectAttempt;
    const delay = reconnectDelay(attempt, this.options.reconnect ?? {}, this.random);
    this.setState('disconnected', { lastError: `${what}: ${reason}`, reconnectAttempt: attempt + 1, nextAttemptAt: this.now() + delay, businessId: this.current.businessId });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) void this.connect();
    }, delay);
  }

  private armWatchdog(generation: number): void {
    clearTimeout(this.watchdogTimer);
    const limit = this.options.startTimeoutMs ?? 5 * 60_000;
    this.watchdogTimer = setTimeout(() => {
      if (this.current.state === 'starting') this.fail(generation, 'WhatsApp Web did not start in time', new Error(`no QR code and not ready after ${limit} ms`));
    }, limit);
  }

  /**
   * The bridge's own sends. WhatsApp Web echoes every sent message as message_create, possibly
   * before sendMessage resolves; the send flow records the message itself (with the solicitor's
   * name and the file it already holds), so the echo is dropped rather than ingested first.
   */
  async trackSend<T>(chatId: string, send: () => Promise<T>, idOf: (result: T) => string | undefined): Promise<T> {
    const run = send();
    const settled = run.then(
      (result) => {
        const id = idOf(result);
        if (!id) return;
        if (this.sentByBridge.size >= 1000) this.sentByBridge.clear();
        this.sentByBridge.add(id);
      },
      () => undefined,
    );
    const all = Promise.all([this.bridgeSends.get(chatId), settled]).then(() => undefined);
    this.bridgeSends.set(chatId, all);
    void all.then(() => {
      if (this.bridgeSends.get(chatId) === all) this.bridgeSends.delete(chatId);
    });
    return run;
  }

  private onMessage(message: WebMessage): void {
    const chatId = chatIdOf(message);
    this.deliver(chatId, async (resolver) => {
      if (message.fromMe) {
        await this.bridgeSends.get(chatId);
        if (this.sentByBridge.delete(message.id._serialized)) return { batch: { events: [], statuses: [] }, mark: message.timestamp * 1000 };
      }
      return { batch: { events: present(normalizeMessage(message, await resolver.forMessage(message))), statuses: [] }, mark: message.timestamp * 1000 };
    });
  }

  private onEdit(message: WebMessage, newBody: string, prevBody: string): void {
    this.deliver(chatIdOf(message), async (resolver) => ({
      batch: { events: present(normalizeEdit(message, { newBody, prevBody }, await resolver.forMessage(message), this.now())), statuses: [] },
      mark: message.latestEditSenderTimestampMs,
    }));
  }

  private onRevoke(after: WebMessage, before: WebMessage | null | undefined): void {
    this.deliver(chatIdOf(after), async (resolver) => ({
      batch: { events: present(normalizeRevoke(after, before, await resolver.forMessage(after))), statuses: [] },
    }));
  }

  private onReaction(reaction: WebReaction): void {
    this.deliver(reactionChatIdOf(reaction), async (resolver) => ({
      batch: { events: present(normalizeReaction(reaction, await resolver.forReaction(reaction))), statuses: [] },
    }));
  }

  private onAck(message: WebMessage, ack: number): void {
    const businessId = this.current.businessId;
    if (!businessId) return;
    const status = normalizeAck(message, ack, { business: { id: businessId, displayNumber: businessId } }, this.now());
    if (status) this.deliver(chatIdOf(message), async () => ({ batch: { events: [], statuses: [status] } }));
  }

  /**
   * Queues one live event behind its chat's earlier work, and behind the catch-up's chat list, so a
   * chat's caught-up messages reach ingest before its new ones.
   */
  private deliver(chatId: string | undefined, work: LiveWork): void {
    const resolver = this.resolver;
    const businessId = this.current.businessId;
    if (!chatId || !isClientChat(chatId) || !resolver || !businessId) return;
    const { logger } = this.options;
    void this.catchUpGate.then(() =>
      this.queues
        .run(chatId, async () => {
          const { batch, mark } = await work(resolver);
          if (batch.events.length === 0 && batch.statuses.length === 0) return;
          try {
            await this.options.onBatch(batch);
          } catch (error) {
            this.behind.add(chatId);
            logger.error({ chatId, ...describeError(error) }, 'ingest refused a live WhatsApp Web event; the chat will be caught up again');
            this.scheduleCatchUp();
            return;
          }
          if (mark !== undefined && !this.behind.has(chatId)) await this.options.marks.advance(businessId, chatId, mark);
        })
        .catch((error: unknown) => logger.error({ chatId, ...describeError(error) }, 'a live WhatsApp Web event could not be handled')),
    );
  }

  /**
   * Catch-up of every client chat with something newer than its mark. The chat list is fetched
   * first and each chat's catch-up queued at once, before any live event, which waits for that.
   * A chat that fails keeps its mark and is tried again with backoff.
   */
  private async runCatchUp(generation: number): Promise<void> {
    const client = this.client;
    const resolver = this.resolver;
    const businessId = this.current.businessId;
    if (!client || !resolver || !businessId || generation !== this.generation || this.stopped) return;
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.catchUpGate = gate;
    const { logger } = this.options;
    let runs: Array<Promise<void>>;
    try {
      const chats = (await client.getChats()).filter((chat) => isClientChat(chat.id._serialized));
      const linkedAt = await this.options.marks.linkedAt(businessId, this.now());
      runs = chats.map((chat) => {
        resolver.rememberChat(chat);
        return this.queues.run(chat.id._serialized, () => this.fetching.use(() => this.catchUpChat(generation, client, resolver, businessId, chat, linkedAt)));
      });
    } catch (error) {
      logger.error(describeError(error), 'catch-up could not list the chats');
      runs = [Promise.reject(error instanceof Error ? error : new Error(String(error)))];
    } finally {
      release();
    }
    const results = await Promise.allSettled(runs);
    const failed = results.filter((result) => result.status === 'rejected').length;
    if (failed > 0) {
      logger.warn({ chats: runs.length, failed }, 'catch-up incomplete; trying again');
      this.scheduleCatchUp();
    } else {
      this.catchUpAttempt = 0;
      logger.info({ chats: runs.length }, 'catch-up done');
    }
  }

  private async catchUpChat(generation: number, client: WebClient, resolver: ContextResolver, businessId: string, chat: WebChat, linkedAt: number): Promise<void> {
    // A newer client runs its own catch-up; this one's page is gone.
    if (generation !== this.generation || this.stopped || client !== this.client) return;
    const { marks, logger, onBatch } = this.options;
    await catchUpChat({ businessId, marks, onBatch, resolver, logger, options: this.catchUpOptions, now: this.now, behind: this.behind }, chat, linkedAt);
  }

  private scheduleCatchUp(): void {
    if (this.catchUpTimer || this.stopped) return;
    const delay = reconnectDelay(this.catchUpAttempt, this.options.reconnect ?? {}, this.random);
    this.catchUpAttempt += 1;
    const generation = this.generation;
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = undefined;
      void this.runCatchUp(generation);
    }, delay);
  }

  private setState(state: SessionState, fields: Omit<SessionStatus, 'state' | 'since' | 'reconnectAttempt'> & { reconnectAttempt?: number }): void {
    this.current = {
      businessId: this.current.businessId,
      ...fields,
      state,
      since: this.now(),
      reconnectAttempt: fields.reconnectAttempt ?? this.current.reconnectAttempt,
    };
    const snapshot = this.status();
    for (const listener of this.statusListeners) {
      try {
        listener(snapshot);
      } catch (error) {
        this.options.logger.warn(describeError(error), 'a session status listener threw');
      }
    }
  }
}

const present = <T>(value: T | undefined): T[] => (value === undefined ? [] : [value]);
