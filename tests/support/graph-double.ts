import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INetworkModule, NetworkResponse } from '@azure/msal-node';

/**
 * Local stand-ins for the two Microsoft services an on-behalf-of user lookup touches, answering
 * only in their documented shapes:
 * - Entra ID v2 (login.microsoftonline.com): GET /<tenant>/v2.0/.well-known/openid-configuration
 *   and POST /<tenant>/oauth2/v2.0/token with grant_type
 *   urn:ietf:params:oauth:grant-type:jwt-bearer and requested_token_use=on_behalf_of.
 * - Microsoft Graph: GET /v1.0/users/{id | userPrincipalName} -> the user object, or 404 with
 *   {"error": {"code": "Request_ResourceNotFound", ...}}.
 */
export interface GraphDouble {
  url: string;
  /** Routes MSAL's requests for https://login.microsoftonline.com to this server. */
  networkClient: INetworkModule;
  /** The OBO token requests received (form fields). */
  tokenRequests: Array<Record<string, string>>;
  /** The bearer tokens Graph was called with. */
  graphTokens: string[];
  stop(): Promise<void>;
}

const realHost = 'https://login.microsoftonline.com';

export async function startGraphDouble(options: { tenantId: string; users: Array<{ userPrincipalName: string; displayName: string; mail: string }> }): Promise<GraphDouble> {
  const tokenRequests: Array<Record<string, string>> = [];
  const graphTokens: string[] = [];
  let issued = 0;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET' && url.pathname === `/${options.tenantId}/v2.0/.well-known/openid-configuration`) {
      const base = `${realHost}/${options.tenantId}`;
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
      tokenRequests.push(form);
      if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || form.requested_token_use !== 'on_behalf_of' || !form.assertion) {
        return json(400, { error: 'invalid_grant', error_description: 'AADSTS50027: not an on-behalf-of request' });
      }
      issued += 1;
      return json(200, { token_type: 'Bearer', scope: form.scope, expires_in: 3600, ext_expires_in: 3600, access_token: `graph-token-${issued}` });
    }
    const user = /^\/v1\.0\/users\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && user) {
      graphTokens.push((req.headers.authorization ?? '').replace(/^Bearer /, ''));
      const id = decodeURIComponent(user[1]!).toLowerCase();
      const found = options.users.find((u) => u.userPrincipalName.toLowerCase() === id || u.mail.toLowerCase() === id);
      if (!found) return json(404, { error: { code: 'Request_ResourceNotFound', message: `Resource '${id}' does not exist.` } });
      return json(200, { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity', id: 'a1b2', ...found });
    }
    json(404, { error: { code: 'NotFound', message: 'no such route in the double' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const local = (target: string) => target.replace(realHost, url);
  const toResponse = async <T>(response: Response): Promise<NetworkResponse<T>> => ({
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: (await response.json()) as T,
  });
  return {
    url,
    tokenRequests,
    graphTokens,
    networkClient: {
      sendGetRequestAsync: async (target, requestOptions) => toResponse(await fetch(local(target), { headers: requestOptions?.headers ?? {} })),
      sendPostRequestAsync: async (target, requestOptions) =>
        toResponse(await fetch(local(target), { method: 'POST', headers: requestOptions?.headers ?? {}, body: requestOptions?.body ?? '' })),
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
