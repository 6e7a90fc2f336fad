import { PassThrough } from 'node:stream';
import type MailMessage from 'nodemailer/lib/mailer/mail-message';
import SMTPPool from 'nodemailer/lib/smtp-pool';
import { type RetryClass, UpstreamError } from '../../core/errors.js';
import type { MailTransport, SendResult } from '../../core/ports.js';
import { RequestThread } from '../request-thread.js';

export interface SmtpOptions {
  url: string;
  maxConnections: number;
  /** Per-connection socket timeouts, so a hung server becomes a transient failure. */
  timeoutMs?: number;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/**
 * Sends composed messages over pooled SMTP (nodemailer's SMTP pool). The raw bytes go out exactly
 * as given: the relay decided every header. Failures are classified here, where their meaning is
 * known: a dropped or refused connection, a timeout or a 4xx reply is transient; a 5xx reply
 * permanent.
 */
export class SmtpTransport implements MailTransport {
  private readonly pool: SMTPPool;

  constructor(options: SmtpOptions) {
    const timeout = options.timeoutMs ?? 30_000;
    this.pool = new SMTPPool({
      url: options.url,
      pool: true,
      maxConnections: options.maxConnections,
      maxMessages: 1000,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout * 2,
      // Firm gateways on private networks often present internal certificates; STARTTLS is
      // still used when offered. smtps:// URLs verify as usual.
      tls: { rejectUnauthorized: !options.url.startsWith('smtp:') },
    });
  }

  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      this.pool.send(composedMail(raw, envelope), (error, info) => {
        if (error) reject(classifySmtpError(error as SmtpFailure));
        else resolve({ response: String(info?.response ?? '') });
      });
    });
  }

  /**
   * Opens a connection of its own, greets the server (EHLO, STARTTLS when offered, AUTH when the
   * URL has credentials) and closes it. Throws the classified UpstreamError when that fails.
   */
  async verify(): Promise<void> {
    try {
      await this.pool.verify();
    } catch (error) {
      throw classifySmtpError(error as SmtpFailure);
    }
  }

  async close(): Promise<void> {
    this.pool.close();
  }
}

/** A mail for the SMTP client's thread: its bytes (copied across) and envelope. */
export interface SmtpSendRequest {
  raw: Uint8Array;
  envelope: { from: string; to: string[] };
}

/** A failed send as it crosses back from the thread: an UpstreamError's fields, or a plain message. */
export interface SmtpSendFailure {
  message: string;
  retry?: RetryClass;
  upstreamStatus?: number | string;
}

/**
 * The SMTP pool on a worker thread of its own: the SMTP client's work per mail (commands, replies,
 * dot-stuffing the body, the socket writes) runs on another core than webhooks and the store. The
 * same bytes, envelope and classified failures as SmtpTransport. A mail the thread held when it
 * died fails as transient (its job is retried); the next mail starts a new thread.
 */
export class ThreadedSmtpTransport implements MailTransport {
  private readonly thread: RequestThread<SmtpSendRequest, SendResult, SmtpSendFailure>;
  private check: { at: number; state: Promise<SmtpState> } | undefined;

  /**
   * `entry`: the thread's script, when the server runs from a bundle that has one; by default
   * smtp-thread.js, which loads the TypeScript through tsx.
   */
  constructor(
    private readonly options: SmtpOptions,
    entry: URL | string = new URL('./smtp-thread.js', import.meta.url),
  ) {
    this.thread = new RequestThread({
      entry,
      data: options,
      name: 'the SMTP client',
      toError: (failure) => (failure.retry ? new UpstreamError('smtp', failure.message, failure.retry, failure.upstreamStatus) : new Error(failure.message)),
      lostError: (cause) => new UpstreamError('smtp', `the SMTP client's thread stopped while sending (${cause.message})`, 'transient'),
    });
  }

  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<SendResult> {
    return this.thread.request({ raw, envelope });
  }

  /**
   * Whether the SMTP server answers, for /readyz: checked (SmtpTransport.verify, on this thread: a
   * check must not start the client's thread in a bridge that has sent nothing yet) at most once
   * every `everyMs`, the last result given in between; `failed` hears why a check failed, in full.
   * A check that takes longer than `waitMs` counts as no answer; it goes on and its result is what
   * the next call gets.
   */
  async state(everyMs: number, failed: (error: unknown) => void = () => undefined, waitMs = 3_000): Promise<SmtpState> {
    const now = Date.now();
    if (!this.check || now - this.check.at >= everyMs) {
      const at = new Date(now).toISOString();
      const state = verifyOnce(this.options).then(
        (): SmtpState => ({ state: 'reachable', checkedAt: at }),
        (error: unknown): SmtpState => {
          failed(error);
          return { state: 'unreachable', checkedAt: at, detail: smtpFailureDetail(error) };
        },
      );
      this.check = { at: now, state };
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<SmtpState>((resolve) => {
      timer = setTimeout(() => resolve({ state: 'unreachable', checkedAt: new Date(now).toISOString(), detail: `no answer within ${waitMs / 1000} s` }), waitMs);
    });
    try {
      return await Promise.race([this.check.state, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/** A connection and greeting of its own, closed after. */
async function verifyOnce(options: SmtpOptions): Promise<void> {
  const probe = new SmtpTransport({ ...options, maxConnections: 1 });
  try {
    await probe.verify();
  } finally {
    await probe.close();
  }
}

/** The SMTP server as /readyz shows it. */
export type SmtpState = { state: 'reachable'; checkedAt: string } | { state: 'unreachable'; checkedAt: string; detail: string };

/**
 * Why a check failed, in words that name no host, address or account: /readyz answers anyone
 * who can reach the bridge. The full message goes to the log.
 */
function smtpFailureDetail(error: unknown): string {
  if (!(error instanceof UpstreamError)) return 'the SMTP client failed';
  const status = error.upstreamStatus;
  if (typeof status === 'number') return `the server replied ${status}`;
  return status ? `connection failed (${status})` : 'connection failed';
}

/**
 * A mail already composed, in the shape a nodemailer transport reads a queued mail in (its
 * `mail.data` and `mail.message`), handed to the pool without going through `sendMail`: that
 * path wraps even raw bytes in a message tree and a stream pipeline of its own per mail, which
 * cost the relay's main thread about 0.1 ms of CPU per mail for bytes that go out unchanged. A
 * mail the pool moves to another connection (its first one dropped before a byte was sent)
 * asks for a fresh stream.
 */
function composedMail(raw: Buffer, envelope: { from: string; to: string[] }): MailMessage<SMTPPool.SentMessageInfo> {
  const message = {
    getEnvelope: () => ({ from: envelope.from, to: [...envelope.to] }),
    // For the pool's debug log lines only.
    messageId: () => '',
    getHeader: () => '',
    createReadStream: () => new PassThrough().end(raw),
  };
  return { data: {}, message } as unknown as MailMessage<SMTPPool.SentMessageInfo>;
}

export function classifySmtpError(error: SmtpFailure): UpstreamError {
  const status = error.responseCode;
  const permanent = typeof status === 'number' && status >= 500;
  const what = typeof status === 'number' ? `SMTP server replied ${(error.response ?? String(status)).slice(0, 300)}` : `SMTP connection failed (${error.code ?? 'unknown'}: ${error.message ?? ''})`;
  return new UpstreamError('smtp', what, permanent ? 'permanent' : 'transient', status ?? error.code);
}
