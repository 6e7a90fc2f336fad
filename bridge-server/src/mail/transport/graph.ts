import { createRequire } from 'node:module';
import type * as MsalNode from '@azure/msal-node';
import type { ConfidentialClientApplication, INetworkModule } from '@azure/msal-node';

/** MSAL, loaded when first needed: it is large, and only a bridge that sends through Graph uses it. */
const msalNode = (): typeof MsalNode => createRequire(import.meta.url)('@azure/msal-node') as typeof MsalNode;
import { UpstreamError } from '../../core/errors.js';
import type { MailTransport, SendResult } from '../../core/ports.js';
import { fitMimeForGraph } from './graph-mime.js';

export interface GraphMailOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** User principal name (or object id) of the mailbox the bridge sends from. */
  mailbox: string;
  /** https://graph.microsoft.com unless pointed elsewhere. */
  graphBaseUrl: string;
  /** https://login.microsoftonline.com unless pointed elsewhere. */
  authorityHost: string;
  /** Requests in flight at once from this process; Outlook allows an app 4. */
  maxConcurrent: number;
  /** Tries per mail, the first included, while Graph answers 429, 503 or 504. Default 4. */
  maxAttempts?: number;
  /** Longest pause one send waits out itself; a longer Retry-After is left to the outbox. Default 30 s. */
  maxWaitMs?: number;
  /** First backoff step when Graph gives no Retry-After; doubles per try. Default 1 s. */
  backoffBaseMs?: number;
  /** Per-request timeout. Default 60 s. */
  timeoutMs?: number;
  /** Largest request body sent. Default 4 MiB, Microsoft Graph's request size limit. */
  maxRequestBytes?: number;
  /** Replaces MSAL's HTTP client; only tests pass one, to reach a local stand-in for Entra ID. */
  networkClient?: INetworkModule;
}

/** Client credentials for Graph: the app's own permissions (Mail.Send), no user involved. */
const graphScope = 'https://graph.microsoft.com/.default';
const service = 'microsoft-graph';
/** Microsoft Graph refuses request bodies over 4 MB (413); a MIME send is the base64 of the mail. */
export const graphRequestLimitBytes = 4 * 1024 * 1024;

interface GraphReply {
  status: number;
  retryAfter: string | null;
  requestId: string | null;
  code: string;
  message: string;
}

/**
 * Sends composed mail through Microsoft Graph `POST /v1.0/users/{mailbox}/sendMail` with the MIME
 * base64-encoded as a text/plain body; Graph answers 202 Accepted (queued, not yet delivered). The
 * MIME keeps every header the relay decided; only the address inside From becomes the sending
 * mailbox (see graph-mime.ts). Graph saves each sent mail in that mailbox's Sent Items: with MIME
 * there is no saveToSentItems switch.
 *
 * Limits are kept per mailbox, where Outlook counts them: at most `maxConcurrent` requests in
 * flight (Outlook allows 4 per app), and after a 429, 503 or 504 every send from this process waits
 * until the Retry-After has passed (or an exponential backoff when there is none). A mail is tried
 * up to `maxAttempts` times; then, or when the wait would pass `maxWaitMs`, `send` throws a
 * transient UpstreamError and the outbox tries again later, still held back by the same pause.
 * A 401 gets one fresh token and one more try. Any other 4xx is permanent and carries Graph's
 * error code and message; other 5xx and network failures are transient.
 */
export class GraphMailTransport implements MailTransport {
  private readonly msal: ConfidentialClientApplication;
  private readonly slots: Slots;
  private readonly url: string;
  private notBefore = 0;
  private lastToken: string | undefined;
  private fetching: Promise<string> | undefined;
  private refreshing: Promise<string> | undefined;

  constructor(private readonly options: GraphMailOptions) {
    this.msal = new (msalNode().ConfidentialClientApplication)({
      auth: { clientId: options.clientId, clientSecret: options.clientSecret, authority: `${options.authorityHost}/${options.tenantId}` },
      ...(options.networkClient ? { system: { networkClient: options.networkClient } } : {}),
    });
    this.slots = new Slots(options.maxConcurrent);
    this.url = `${options.graphBaseUrl.replace(/\/+$/, '')}/v1.0/users/${encodeURIComponent(options.mailbox)}/sendMail`;
  }

  /**
   * Sends one mail; may wait (for a free slot, or out a Retry-After up to `maxWaitMs`). The
   * envelope sender is not used (bounces go to the sending mailbox); every envelope recipient must
   * be in the MIME To, Cc or Bcc. Throws UpstreamError as described on the class.
   */
  async send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<SendResult> {
    const body = fitMimeForGraph(raw, this.options.mailbox, envelope.to).toString('base64');
    const limit = this.options.maxRequestBytes ?? graphRequestLimitBytes;
    if (body.length > limit) throw tooLarge(raw.length, body.length);
    const maxAttempts = this.options.maxAttempts ?? 4;
    let refusedToken: string | undefined;
    for (let attempt = 1; ; attempt += 1) {
      await this.waitForPause();
      const token = await this.bearer(refusedToken);
      const reply = await this.slots.run(() => this.post(body, token));
      if (reply.status === 202) return { response: `202 Accepted${reply.requestId ? ` (request-id ${reply.requestId})` : ''}` };
      if (reply.status === 401 && refusedToken === undefined) {
        // The token may have been revoked or rolled over before its expiry: one fresh token.
        refusedToken = token;
        attempt -= 1;
        continue;
      }
      if (reply.status === 429 || reply.status === 503 || reply.status === 504) {
        this.pause(retryAfterMs(reply.retryAfter) ?? backoffMs(attempt, this.options.backoffBaseMs ?? 1000));
        if (attempt < maxAttempts) continue;
        throw new UpstreamError(service, `${describe(reply)}; tried ${attempt} times, the outbox tries again later`, 'transient', reply.status);
      }
      throw classify(reply, refusedToken !== undefined);
    }
  }

  /**
   * Resolves when a token for the mail route can be had (from MSAL's cache or Entra ID); for
   * readiness checks. Throws UpstreamError otherwise. Never calls Graph itself.
   */
  async checkReady(): Promise<void> {
    await this.bearer(undefined);
  }

  /** Nothing to release: every send is its own HTTPS request, and MSAL's token cache is in memory. */
  async close(): Promise<void> {}

  private async post(body: string, token: string): Promise<GraphReply> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new UpstreamError(service, `Microsoft Graph could not be reached to send mail (${cause}); the outbox tries again later`, 'transient', cause);
    }
    const text = await response.text().catch(() => '');
    let code = '';
    let message = '';
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      code = typeof parsed.error?.code === 'string' ? parsed.error.code : '';
      message = typeof parsed.error?.message === 'string' ? parsed.error.message : '';
    } catch {
      // 202 has no body, and a gateway in front of Graph may answer in HTML.
    }
    return { status: response.status, retryAfter: response.headers.get('retry-after'), requestId: response.headers.get('request-id'), code, message };
  }

  /**
   * A token for Graph (MSAL's cached one while valid); after `refused` was turned away, a fresh
   * one. Concurrent callers share one request to Entra ID.
   */
  private async bearer(refused: string | undefined): Promise<string> {
    if (refused === undefined) {
      this.fetching ??= this.acquire(false).finally(() => {
        this.fetching = undefined;
      });
      return this.fetching;
    }
    if (this.lastToken !== undefined && this.lastToken !== refused) return this.lastToken;
    this.refreshing ??= this.acquire(true).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async acquire(skipCache: boolean): Promise<string> {
    try {
      const result = await this.msal.acquireTokenByClientCredential({ scopes: [graphScope], skipCache });
      if (!result?.accessToken) throw new Error('no access token in the answer');
      this.lastToken = result.accessToken;
      return result.accessToken;
    } catch (error) {
      // Transient on purpose: once the admin fixes the app registration, waiting mail flows on.
      throw new UpstreamError(
        service,
        `Could not get a Microsoft Graph token for the mail route (${String((error as Error).message).slice(0, 300)}); check WA_BRIDGE_GRAPH_TENANT_ID, WA_BRIDGE_GRAPH_CLIENT_ID, WA_BRIDGE_GRAPH_CLIENT_SECRET and the app's Mail.Send permission`,
        'transient',
      );
    }
  }

  private pause(ms: number): void {
    this.notBefore = Math.max(this.notBefore, Date.now() + ms);
  }

  private async waitForPause(): Promise<void> {
    const maxWaitMs = this.options.maxWaitMs ?? 30_000;
    for (let wait = this.notBefore - Date.now(); wait > 0; wait = this.notBefore - Date.now()) {
      if (wait > maxWaitMs) {
        throw new UpstreamError(service, `Microsoft Graph asked the bridge to hold mail from ${this.options.mailbox} for ${Math.ceil(wait / 1000)} s more (Retry-After); the outbox tries again later`, 'transient', 429);
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function describe(reply: GraphReply): string {
  const what = [reply.code, reply.message.slice(0, 300)].filter(Boolean).join(': ');
  return `Microsoft Graph answered ${reply.status}${what ? ` ${what}` : ''}${reply.requestId ? ` (request-id ${reply.requestId})` : ''}`;
}

function classify(reply: GraphReply, afterFreshToken: boolean): UpstreamError {
  if (reply.status === 413) {
    return new UpstreamError(service, `${describe(reply)}: the mail is over Microsoft Graph's 4 MB request limit; relay mail this large through SMTP (WA_BRIDGE_MAIL_TRANSPORT=smtp)`, 'permanent', 413);
  }
  if (reply.status === 401 && afterFreshToken) {
    return new UpstreamError(service, `${describe(reply)}, also with a fresh token; check the app registration's Mail.Send application permission and admin consent`, 'permanent', 401);
  }
  const retry = reply.status >= 500 || reply.status === 408 ? 'transient' : 'permanent';
  return new UpstreamError(service, retry === 'permanent' ? `${describe(reply)}; the mail was not sent` : `${describe(reply)}; the outbox tries again later`, retry, reply.status);
}

function tooLarge(rawBytes: number, bodyBytes: number): UpstreamError {
  const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return new UpstreamError(
    service,
    `The mail is ${mb(rawBytes)} MB (${mb(bodyBytes)} MB base64-encoded); Microsoft Graph sendMail takes at most 4 MB per request, about 3 MB of mail. It was not sent: relay mail this large through SMTP (WA_BRIDGE_MAIL_TRANSPORT=smtp)`,
    'permanent',
    413,
  );
}

/** Retry-After as seconds or an HTTP date (RFC 9110 10.2.3), in milliseconds from now. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function backoffMs(attempt: number, baseMs: number): number {
  return Math.round(baseMs * 2 ** (attempt - 1) * (1 + 0.2 * Math.random()));
}

/** A counting semaphore: `run` waits for one of `size` slots; a freed slot goes to the longest waiter. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.size) this.active += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
