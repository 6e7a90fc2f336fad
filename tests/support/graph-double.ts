import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INetworkModule, NetworkResponse } from '@azure/msal-node';

/**
 * Local stand-ins for the two Microsoft services an on-behalf-of user lookup touches, answering
 * only in their documented shapes (a test double: no test can reach Microsoft):
 * - Entra ID v2 (login.microsoftonline.com): GET /<tenant>/v2.0/.well-known/openid-configuration
 *   and POST /<tenant>/oauth2/v2.0/token, the on-behalf-of request: grant_type
 *   urn:ietf:params:oauth:grant-type:jwt-bearer, client_id and client_secret, assertion (the
 *   token the middle tier received), scope, requested_token_use=on_behalf_of. Answered
 *   {token_type, scope, expires_in, ext_expires_in, access_token[, refresh_token]} or an OAuth
 *   error {error, error_description, error_codes, timestamp, trace_id, correlation_id}.
 * - Microsoft Graph: GET /v1.0/users/{id | userPrincipalName}[?$select=...] with a token Entra ID
 *   issued: the user object (only the selected properties, with @odata.context), or 404
 *   Request_ResourceNotFound. A user is found there by object id or userPrincipalName
 *   (case-insensitive), never by another address; GET /v1.0/users?$filter=mail eq '...' lists
 *   those with that mail ({"@odata.context", "value": [...]}). Errors are {"error": {"code",
 *   "message", "innerError"}}.
 *
 * Rules it keeps as Entra ID does: a wrong client secret is 401 invalid_client; an assertion that
 * is not a JWT, has expired, or was issued for another audience (when `assertionAudiences` is
 * given) is invalid_grant; a scope of a resource other than Graph is invalid_resource; a Graph
 * permission the app registration was not granted is invalid_grant (consent required).
 */
export interface GraphDouble {
  url: string;
  /** Routes MSAL's requests for https://login.microsoftonline.com to this server. */
  networkClient: INetworkModule;
  /** Form fields of every token request, in arrival order. */
  tokenRequests: Array<Record<string, string>>;
  /** Every Graph token issued, with the assertion it was exchanged for. */
  issued: Array<{ accessToken: string; assertion: string; scope: string }>;
  /** Every Graph user request (GET /users/{id} or a GET /users search), with what it was answered. */
  userRequests: Array<{ id?: string; filter?: string; select: string | null; token: string; status: number }>;
  /** The bearer tokens Graph was called with. */
  graphTokens: string[];
  /** The next token request that passes the checks is answered with this OAuth error instead. */
  refuseNextExchange(answer: { status: number; error: string; code: number; description: string }): void;
  stop(): Promise<void>;
}

export interface GraphDoubleUser {
  /** Object id; a fresh GUID when not given. */
  id?: string;
  userPrincipalName: string;
  displayName: string;
  mail: string;
}

const entraHost = 'https://login.microsoftonline.com';
const graphResource = 'https://graph.microsoft.com';
const oidcScopes = new Set(['openid', 'profile', 'offline_access']);
/** Properties of microsoft.graph.user this double knows; a $select outside them is refused as Graph refuses unknown ones. */
const userProperties = ['id', 'userPrincipalName', 'displayName', 'mail', 'givenName', 'surname', 'jobTitle', 'businessPhones', 'mobilePhone', 'officeLocation', 'preferredLanguage'];

export async function startGraphDouble(options: {
  tenantId: string;
  clientId?: string;
  clientSecret?: string;
  users: GraphDoubleUser[];
  /** Delegated Graph permissions granted to the app registration. Default User.ReadBasic.All. */
  grantedPermissions?: string[];
  /** When given, an assertion must be a JWT whose aud is one of these (the middle tier's API). */
  assertionAudiences?: string[];
}): Promise<GraphDouble> {
  const clientId = options.clientId ?? 'api-client-id';
  const clientSecret = options.clientSecret ?? 'api-client-secret';
  const granted = new Set(options.grantedPermissions ?? ['User.ReadBasic.All']);
  const users = options.users.map((u) => ({ id: u.id ?? randomUUID(), ...u }));
  const refusals: Array<{ status: number; error: string; code: number; description: string }> = [];
  let count = 0;

  const double: GraphDouble = {
    url: '',
    networkClient: undefined as unknown as INetworkModule,
    tokenRequests: [],
    issued: [],
    userRequests: [],
    graphTokens: [],
    refuseNextExchange: (answer) => void refusals.push(answer),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) => void res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
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
      const form = Object.fromEntries(new URLSearchParams(await bodyOf(req)));
      double.tokenRequests.push(form);
      const oauthError = (status: number, error: string, code: number, description: string) => {
        const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z';
        const traceId = randomUUID();
        const correlationId = String(form['client-request-id'] ?? req.headers['client-request-id'] ?? randomUUID());
        json(status, {
          error,
          error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
          error_codes: [code],
          timestamp,
          trace_id: traceId,
          correlation_id: correlationId,
        });
      };
      if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return oauthError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
      if (form.client_id !== clientId || form.client_secret !== clientSecret) {
        return oauthError(401, 'invalid_client', 7000215, `Invalid client secret provided for app '${form.client_id ?? ''}'.`);
      }
      if (form.requested_token_use !== 'on_behalf_of') return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'requested_token_use'.");
      if (!form.assertion) return oauthError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'assertion'.");
      if (options.assertionAudiences) {
        const claims = jwtClaims(form.assertion);
        if (!claims) return oauthError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
        if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return oauthError(400, 'invalid_grant', 500133, 'Assertion is not within its valid time range.');
        const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
        if (!audiences.some((a) => options.assertionAudiences!.includes(String(a)))) {
          return oauthError(400, 'invalid_grant', 50013, 'Assertion failed signature validation. [Reason - The assertion audience does not match the client app presenting it.]');
        }
      }
      const scopes = (form.scope ?? '').split(' ').filter((s) => s && !oidcScopes.has(s));
      const foreign = scopes.find((s) => !s.startsWith(`${graphResource}/`));
      if (foreign) return oauthError(400, 'invalid_resource', 500011, `The resource principal named ${foreign.replace(/\/[^/]*$/, '')} was not found in the tenant named ${options.tenantId}.`);
      const permissions = scopes.map((s) => s.slice(graphResource.length + 1));
      if (permissions.length === 0) return oauthError(400, 'invalid_scope', 70011, 'The provided request must include a \'scope\' input parameter.');
      const missing = permissions.find((p) => p !== '.default' && !granted.has(p));
      if (missing) return oauthError(400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource.`);
      const refusal = refusals.shift();
      if (refusal) return oauthError(refusal.status, refusal.error, refusal.code, refusal.description);
      count += 1;
      const accessToken = `graph-token-${count}`;
      const scope = permissions.includes('.default') ? [...granted].map((p) => `${graphResource}/${p}`).join(' ') : scopes.join(' ');
      double.issued.push({ accessToken, assertion: form.assertion, scope });
      const offline = (form.scope ?? '').split(' ').includes('offline_access');
      return json(200, { token_type: 'Bearer', scope, expires_in: 3599, ext_expires_in: 3599, access_token: accessToken, ...(offline ? { refresh_token: `graph-refresh-${count}` } : {}) });
    }
    const user = /^\/v1\.0\/users(?:\/([^/]+))?$/.exec(url.pathname);
    if (req.method === 'GET' && user) {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      double.graphTokens.push(token);
      const id = user[1] === undefined ? undefined : decodeURIComponent(user[1]);
      const filter = url.searchParams.get('$filter');
      const select = url.searchParams.get('$select');
      const answer = (status: number, body: unknown) => {
        double.userRequests.push({ ...(id !== undefined ? { id } : {}), ...(filter !== null ? { filter } : {}), select, token, status });
        json(status, body);
      };
      const graphError = (status: number, code: string, message: string) => {
        const requestId = randomUUID();
        res.setHeader('request-id', requestId);
        answer(status, { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': String(req.headers['client-request-id'] ?? requestId) } } });
      };
      if (!double.issued.some((t) => t.accessToken === token)) return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
      const fields = select ? select.split(',').map((f) => f.trim()) : ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
      const unknown = fields.find((f) => !userProperties.includes(f));
      if (unknown) return graphError(400, 'BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.user'.`);
      const shape = (found: (typeof users)[number]) => {
        const full: Record<string, unknown> = { businessPhones: [], givenName: null, surname: null, jobTitle: null, mobilePhone: null, officeLocation: null, preferredLanguage: null, ...found };
        return Object.fromEntries(fields.map((f) => [f, full[f] ?? null]));
      };
      const context = `${graphResource}/v1.0/$metadata#users${select ? `(${fields.join(',')})` : ''}`;
      if (id === undefined) {
        // List users: only the filter a lookup by address uses, mail eq '<OData string literal>'.
        const byMail = filter === null ? undefined : /^mail eq '((?:[^']|'')*)'$/.exec(filter.trim());
        if (filter !== null && !byMail) return graphError(400, 'Request_UnsupportedQuery', 'Unsupported or invalid query filter clause specified for property or navigation property.');
        const top = Number(url.searchParams.get('$top') ?? 100);
        const address = byMail?.[1]?.replace(/''/g, "'").toLowerCase();
        const matches = users.filter((u) => address === undefined || u.mail.toLowerCase() === address).slice(0, top);
        return answer(200, { '@odata.context': context, value: matches.map(shape) });
      }
      const found = users.find((u) => u.id.toLowerCase() === id.toLowerCase() || u.userPrincipalName.toLowerCase() === id.toLowerCase());
      if (!found) return graphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
      return answer(200, { '@odata.context': `${context}/$entity`, ...shape(found) });
    }
    json(404, { error: { code: 'BadRequest', message: `Resource not found for the segment '${url.pathname}'.` } });
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

/** The payload of a compact JWS, or undefined when it is not one. Entra ID checks the signature too; the bridge has already. */
function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
