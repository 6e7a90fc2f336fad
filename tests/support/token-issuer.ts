import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Role } from '@wa-bridge/shared/roles';

/**
 * A local stand-in for Entra ID's token side: a JWKS endpoint on loopback, shaped like
 * https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys ({"keys": [RSA JWKs with kid]}),
 * and a signer for v2 access tokens (iss https://.../<tenant>/v2.0, aud, oid,
 * preferred_username, name, roles). The bridge validates its tokens with the same code as real
 * ones; only WA_BRIDGE_AUTH_JWKS_URL and WA_BRIDGE_AUTH_ISSUER point here.
 */
export interface TokenIssuer {
  tenantId: string;
  issuer: string;
  jwksUrl: string;
  audience: string;
  /** Settings that make a bridge trust this issuer. */
  env: Record<string, string>;
  /** How often the bridge fetched the key set. */
  jwksFetches(): number;
  sign(user: TestUser, options?: SignOptions): Promise<string>;
  stop(): Promise<void>;
}

export interface TestUser {
  upn: string;
  name?: string;
  roles: Role[];
  oid?: string;
}

export interface SignOptions {
  /** Seconds from now; negative for an expired token. Default one hour. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  /** 'unpublished': a key (and kid) the JWKS does not list. */
  key?: 'published' | 'unpublished';
}

/** The tenant every test issuer signs for, and the API audience its tokens carry by default. */
export const testTenantId = '00000000-0000-4000-8000-00000000beef';
export const testAudience = 'api://wa-bridge.test/0b5d3c51-6a4f-4c7e-9d1e-7d0c1f2a3b4c';

/**
 * `issuer`: an issuer string other than Entra ID's (a sovereign cloud, a v1 endpoint); tokens carry
 * it by default and `env` sets WA_BRIDGE_AUTH_ISSUER to it, so the bridge expects it instead of
 * the one it would derive from the tenant.
 */
export async function startTokenIssuer(options: { audience?: string; issuer?: string } = {}): Promise<TokenIssuer> {
  const tenantId = testTenantId;
  const audience = options.audience ?? testAudience;
  const published = await makeKey('published-key-1');
  const unpublished = await makeKey('unpublished-key-1');
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === `/${tenantId}/discovery/v2.0/keys`) {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [published.jwk] }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The issuer string Entra ID writes into v2 tokens (unless overridden); the bridge compares it exactly.
  const issuer = options.issuer ?? `https://login.microsoftonline.com/${tenantId}/v2.0`;
  const jwksUrl = `${base}/${tenantId}/discovery/v2.0/keys`;
  return {
    tenantId,
    issuer,
    jwksUrl,
    audience,
    env: { WA_BRIDGE_AUTH_TENANT_ID: tenantId, WA_BRIDGE_AUTH_AUDIENCE: audience, WA_BRIDGE_AUTH_JWKS_URL: jwksUrl, ...(options.issuer ? { WA_BRIDGE_AUTH_ISSUER: options.issuer } : {}) },
    jwksFetches: () => fetches,
    async sign(user, signOptions = {}) {
      const key = signOptions.key === 'unpublished' ? unpublished : published;
      const now = Math.floor(Date.now() / 1000);
      const expiresIn = signOptions.expiresIn ?? 3600;
      return new SignJWT({
        oid: user.oid ?? `oid-${user.upn}`,
        tid: tenantId,
        preferred_username: user.upn,
        name: user.name ?? user.upn,
        roles: user.roles,
        ver: '2.0',
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(signOptions.issuer ?? issuer)
        .setAudience(signOptions.audience ?? audience)
        .setSubject(`sub-${user.upn}`)
        .setIssuedAt(now - Math.max(0, -expiresIn) - 60)
        .setNotBefore(now - Math.max(0, -expiresIn) - 60)
        .setExpirationTime(now + expiresIn)
        .sign(key.privateKey);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function makeKey(kid: string): Promise<{ kid: string; privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}
