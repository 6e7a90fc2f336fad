import type { RawConfig } from './schema.js';

export interface AuthSettings {
  issuer: string;
  jwksUrl: string;
  audience: string[];
  /** On-behalf-of Microsoft Graph lookups, when the app registration's credentials are given. */
  graph?: { tenantId: string; clientId: string; clientSecret: string; graphBaseUrl: string; authorityHost: string };
}

const entraHost = 'https://login.microsoftonline.com';

/**
 * API sign-in from the settings: the tenant gives Entra ID's v2 issuer and key set, each of which
 * may be overridden (a local issuer in tests, a sovereign cloud). Undefined when no issuer is
 * configured; the API then refuses calls (outside the sandbox).
 */
export function resolveAuth(raw: RawConfig, problems: string[]): { auth?: AuthSettings } {
  const tenant = raw.authTenantId;
  const issuer = raw.authIssuer ?? (tenant ? `${entraHost}/${tenant}/v2.0` : undefined);
  const jwksUrl = raw.authJwksUrl ?? (tenant ? `${entraHost}/${tenant}/discovery/v2.0/keys` : undefined);
  if (!issuer && !jwksUrl && !raw.authAudience) return {};
  if (!issuer) problems.push('WA_BRIDGE_AUTH_TENANT_ID: required for API sign-in (or give WA_BRIDGE_AUTH_ISSUER and WA_BRIDGE_AUTH_JWKS_URL)');
  if (!jwksUrl) problems.push('WA_BRIDGE_AUTH_JWKS_URL: required when no tenant id is given');
  if (!raw.authAudience || raw.authAudience.length === 0) problems.push('WA_BRIDGE_AUTH_AUDIENCE: required for API sign-in (the API app registration\'s application id URI or client id)');
  if ((raw.authClientId === undefined) !== (raw.authClientSecret === undefined)) {
    problems.push(`${raw.authClientId === undefined ? 'WA_BRIDGE_AUTH_CLIENT_ID' : 'WA_BRIDGE_AUTH_CLIENT_SECRET'}: give both the client id and secret for Graph lookups, or neither`);
  }
  if (raw.authClientId && !tenant) problems.push('WA_BRIDGE_AUTH_TENANT_ID: required for on-behalf-of Graph lookups');
  if (!issuer || !jwksUrl || !raw.authAudience || raw.authAudience.length === 0) return {};
  const graph =
    tenant && raw.authClientId && raw.authClientSecret
      ? { tenantId: tenant, clientId: raw.authClientId, clientSecret: raw.authClientSecret, graphBaseUrl: raw.graphBaseUrl.replace(/\/+$/, ''), authorityHost: entraHost }
      : undefined;
  return { auth: { issuer, jwksUrl, audience: raw.authAudience, ...(graph ? { graph } : {}) } };
}
