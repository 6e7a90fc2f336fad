import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INetworkModule, NetworkResponse } from '@azure/msal-node';

/**
 * Local stand-ins for the two Microsoft services the Graph mail route touches, answering only in
 * their documented shapes (a test double: no test can reach Microsoft):
 * - Entra ID v2 (login.microsoftonline.com): GET /<tenant>/v2.0/.well-known/openid-configuration
 *   and POST /<tenant>/oauth2/v2.0/token with grant_type=client_credentials and
 *   scope=https://graph.microsoft.com/.default.
 * - Microsoft Graph: POST /v1.0/users/{id | userPrincipalName}/sendMail with Content-Type
 *   text/plain and the MIME base64-encoded as the body, answered 202 Accepted with no body.
 *   Errors are {"error": {"code", "message", "innerError": {"date", "request-id",
 *   "client-request-id"}}}; every answer carries request-id and client-request-id headers.
 *
 * Rules it keeps as Graph and Exchange do: an unknown or revoked bearer token gets 401
 * InvalidAuthenticationToken; an unknown mailbox 404 ErrorInvalidUser; a body over 4 MiB 413; a
 * body that is not base64 400 ErrorMimeContentInvalidBase64String; a From that is not the
 * sending mailbox 403 ErrorSendAsDenied; more than `concurrencyLimit` requests in flight for one
 * mailbox 429 ApplicationThrottled with Retry-After. Tests add 429/503/4xx answers with `failNext`.
 */
export interface GraphMailDouble {
  url: string;
  /** Routes MSAL's requests for https://login.microsoftonline.com to this server. */
  networkClient: INetworkModule;
  /** Form fields of every token request. */
  tokenRequests: Array<Record<string, string>>;
  /** Every sendMail request, in arrival order, with what it was answered. */
  requests: Array<{ mailbox: string; token: string; status: number; code?: string }>;
  /** Mails accepted (202), with the decoded MIME exactly as received. */
  accepted: Array<{ mailbox: string; mime: Buffer; requestId: string }>;
  /** Most sendMail requests seen in flight at once for one mailbox. */
  maxInFlight: number;
  /** Queues answers for the next sendMail requests that pass the token, mailbox and concurrency checks, in order. */
  failNext(...answers: ScriptedAnswer[]): void;
  /** Makes every token issued so far invalid (Graph then answers 401). */
  revokeTokens(): void;
  /** While set, Graph refuses every token, even fresh ones. */
  refuseAllTokens: boolean;
  stop(): Promise<void>;
}

export interface ScriptedAnswer {
  status: number;
  code: string;
  message: string;
  /** Retry-After header value, in seconds. */
  retryAfter?: number;
}

export const graphScope = 'https://graph.microsoft.com/.default';
const entraHost = 'https://login.microsoftonline.com';
const maxBodyBytes = 4 * 1024 * 1024;

export async function startGraphMailDouble(options: {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Mailboxes that exist (UPNs). */
  mailboxes: string[];
  concurrencyLimit?: number;
  /** How long Graph takes to accept a mail, so that concurrent requests overlap. Default 20 ms. */
  processingMs?: number;
}): Promise<GraphMailDouble> {
  const concurrencyLimit = options.concurrencyLimit ?? 4;
  const processingMs = options.processingMs ?? 20;
  const valid = new Set<string>();
  const inFlight = new Map<string, number>();
  const scripted: ScriptedAnswer[] = [];
  let issued = 0;

  const double: GraphMailDouble = {
    url: '',
    networkClient: undefined as unknown as INetworkModule,
    tokenRequests: [],
    requests: [],
    accepted: [],
    maxInFlight: 0,
    failNext: (...answers) => void scripted.push(...answers),
    revokeTokens: () => valid.clear(),
    refuseAllTokens: false,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET' && url.pathname === `/${options.tenantId}/v2.0/.well-known/openid-configuration`) {
      const base = `${entraHost}/${options.tenantId}`;
      return json(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        issuer: `${base}/v2.0`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
      });
    }
    if (req.method === 'POST' && url.pathname === `/${options.tenantId}/oauth2/v2.0/token`) {
      const form = Object.fromEntries(new URLSearchParams((await bodyOf(req)).toString('utf8')));
      double.tokenRequests.push(form);
      if (form.grant_type !== 'client_credentials') return json(400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: not a client credentials request' });
      if (form.client_id !== options.clientId || form.client_secret !== options.clientSecret) {
        return json(401, { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided for app '${form.client_id}'.` });
      }
      if (form.scope !== graphScope) return json(400, { error: 'invalid_scope', error_description: `AADSTS1002012: The provided value for scope ${form.scope} is not valid.` });
      issued += 1;
      const token = `graph-app-token-${issued}`;
      valid.add(token);
      return json(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
    }
    const send = /^\/v1\.0\/users\/([^/]+)\/sendMail$/.exec(url.pathname);
    if (req.method === 'POST' && send) return sendMail(req, res, decodeURIComponent(send[1]!));
    graphError(res, 404, 'BadRequest', `Resource not found for the segment '${url.pathname}'.`, req);
  }

  async function sendMail(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const body = await bodyOf(req);
    const record = (status: number, code?: string) => double.requests.push({ mailbox: id, token, status, ...(code ? { code } : {}) });
    const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
      record(status, code);
      graphError(res, status, code, message, req, headers);
    };
    if (double.refuseAllTokens || !valid.has(token)) {
      return fail(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.', { 'www-authenticate': 'Bearer realm="", error="invalid_token"' });
    }
    const mailbox = options.mailboxes.find((m) => m.toLowerCase() === id.toLowerCase());
    if (!mailbox) return fail(404, 'ErrorInvalidUser', `The requested user '${id}' is invalid.`);
    const busy = inFlight.get(mailbox) ?? 0;
    if (busy >= concurrencyLimit) return fail(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' });
    inFlight.set(mailbox, busy + 1);
    double.maxInFlight = Math.max(double.maxInFlight, busy + 1);
    try {
      await new Promise((resolve) => setTimeout(resolve, processingMs));
      const next = scripted.shift();
      if (next) return fail(next.status, next.code, next.message, next.retryAfter !== undefined ? { 'retry-after': String(next.retryAfter) } : {});
      if (body.length > maxBodyBytes) return fail(413, 'invalidRequest', 'The request size exceeds the maximum limit.');
      if (!/^text\/plain\b/i.test(req.headers['content-type'] ?? '')) return fail(415, 'invalidRequest', 'A MIME message is sent as text/plain.');
      const text = body.toString('latin1').replace(/\s+/g, '');
      if (text === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
        return fail(400, 'ErrorMimeContentInvalidBase64String', 'Invalid base64 string for MIME content.');
      }
      const mime = Buffer.from(text, 'base64');
      const from = fromAddress(mime);
      if (from?.toLowerCase() !== mailbox.toLowerCase()) {
        return fail(403, 'ErrorSendAsDenied', 'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.');
      }
      const requestId = randomUUID();
      record(202);
      double.accepted.push({ mailbox, mime, requestId });
      res.writeHead(202, { 'request-id': requestId, 'client-request-id': String(req.headers['client-request-id'] ?? requestId), date: new Date().toUTCString() }).end();
    } finally {
      inFlight.set(mailbox, (inFlight.get(mailbox) ?? 1) - 1);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const local = (target: string) => target.replace(entraHost, double.url);
  const toResponse = async <T>(response: Response): Promise<NetworkResponse<T>> => ({
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: (await response.json()) as T,
  });
  double.networkClient = {
    sendGetRequestAsync: async (target, requestOptions) => toResponse(await fetch(local(target), { headers: requestOptions?.headers ?? {} })),
    sendPostRequestAsync: async (target, requestOptions) =>
      toResponse(await fetch(local(target), { method: 'POST', headers: requestOptions?.headers ?? {}, body: requestOptions?.body ?? '' })),
  };
  return double;
}

function graphError(res: ServerResponse, status: number, code: string, message: string, req: IncomingMessage, headers: Record<string, string> = {}): void {
  const requestId = randomUUID();
  const clientRequestId = String(req.headers['client-request-id'] ?? requestId);
  const date = new Date().toISOString().slice(0, 19);
  res
    .writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, 'client-request-id': clientRequestId, ...headers })
    .end(JSON.stringify({ error: { code, message, innerError: { date, 'request-id': requestId, 'client-request-id': clientRequestId } } }));
}

/** The address in the MIME From field (inside <> when present). */
function fromAddress(mime: Buffer): string | undefined {
  const end = mime.indexOf('\r\n\r\n');
  const head = mime.subarray(0, end < 0 ? mime.length : end).toString('latin1').replace(/\r?\n(?=[ \t])/g, '');
  const line = /^from:(.*)$/im.exec(head)?.[1];
  if (line === undefined) return undefined;
  return (/<([^>]*)>\s*$/.exec(line)?.[1] ?? line).trim();
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
