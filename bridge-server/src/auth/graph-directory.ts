import { createRequire } from 'node:module';
import type * as MsalNode from '@azure/msal-node';
import type { ConfidentialClientApplication, INetworkModule } from '@azure/msal-node';

/** MSAL, loaded when first needed: it is large, and only a bridge that looks people up in Graph uses it. */
const msalNode = (): typeof MsalNode => createRequire(import.meta.url)('@azure/msal-node') as typeof MsalNode;
import { UpstreamError } from '../core/errors.js';
import type { UserDirectory } from '../core/ports.js';

/**
 * The delegated permission asked for: Graph's least privileged one for reading another user. A
 * scope names Graph by its resource identifier, not by the address it is reached at (the base URL
 * may point at a proxy), as the mail route's client-credentials scope does.
 */
const userLookupScope = 'https://graph.microsoft.com/User.ReadBasic.All';

export interface GraphSettings {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** https://graph.microsoft.com unless pointed elsewhere. */
  graphBaseUrl: string;
  /** https://login.microsoftonline.com unless pointed elsewhere. */
  authorityHost: string;
}

/**
 * Microsoft Graph user lookup on behalf of the signed-in user: MSAL trades the user's API token
 * for a Graph token (OAuth 2.0 on-behalf-of), so the lookup sees only what that user may see.
 * GET /v1.0/users/{id | userPrincipalName} answers the user or 404; an address that is no one's
 * sign-in name is then looked for as a mail address (GET /v1.0/users?$filter=mail eq '...').
 */
export class GraphUserDirectory implements UserDirectory {
  private readonly msal: ConfidentialClientApplication;

  /**
   * `networkClient` replaces MSAL's HTTP client; only tests pass one, to reach a local stand-in
   * for Entra ID (MSAL insists on an https authority, which a loopback server cannot offer).
   */
  constructor(
    private readonly settings: GraphSettings,
    options: { networkClient?: INetworkModule } = {},
  ) {
    this.msal = new (msalNode().ConfidentialClientApplication)({
      auth: { clientId: settings.clientId, clientSecret: settings.clientSecret, authority: `${settings.authorityHost}/${settings.tenantId}` },
      ...(options.networkClient ? { system: { networkClient: options.networkClient } } : {}),
    });
  }

  async findUser(email: string, userToken: string): Promise<{ upn: string; name: string | null } | undefined> {
    let graphToken: string;
    try {
      const result = await this.msal.acquireTokenOnBehalfOf({ oboAssertion: userToken, scopes: [userLookupScope] });
      if (!result?.accessToken) throw new Error('no access token in the answer');
      graphToken = result.accessToken;
    } catch (error) {
      throw new UpstreamError('microsoft-graph', `Could not get a Microsoft Graph token on your behalf (${(error as Error).message}); add members by their sign-in name instead.`, 'transient');
    }
    // Graph finds a user by object id or user principal name only; an address that is someone's
    // mail but not their sign-in name (an alias domain, a renamed account) is then asked as mail.
    const select = '$select=userPrincipalName,displayName';
    const byName = await this.get(`/v1.0/users/${encodeURIComponent(email)}?${select}`, graphToken);
    if (byName !== undefined) return toUser(byName);
    const filter = `mail eq '${email.replace(/'/g, "''")}'`;
    // A mail address belongs to one person in a tenant (Exchange keeps proxy addresses unique).
    const byMail = (await this.get(`/v1.0/users?$filter=${encodeURIComponent(filter)}&${select}&$top=1`, graphToken)) as { value?: unknown } | undefined;
    if (!byMail || !Array.isArray(byMail.value)) throw new UpstreamError('microsoft-graph', 'Microsoft Graph answered a user search without a list of users.', 'permanent');
    return byMail.value.length > 0 ? toUser(byMail.value[0]) : undefined;
  }

  /** A Graph GET: the JSON answered, or undefined for 404. */
  private async get(path: string, graphToken: string): Promise<unknown> {
    const response = await fetch(`${this.settings.graphBaseUrl}${path}`, { headers: { authorization: `Bearer ${graphToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new UpstreamError('microsoft-graph', `Microsoft Graph answered ${response.status} to a user lookup.`, response.status >= 500 || response.status === 429 ? 'transient' : 'permanent', response.status);
    return response.json();
  }
}

function toUser(body: unknown): { upn: string; name: string | null } {
  const { userPrincipalName, displayName } = (body ?? {}) as { userPrincipalName?: unknown; displayName?: unknown };
  if (typeof userPrincipalName !== 'string') throw new UpstreamError('microsoft-graph', 'Microsoft Graph answered a user without userPrincipalName.', 'permanent');
  return { upn: userPrincipalName, name: typeof displayName === 'string' ? displayName : null };
}
