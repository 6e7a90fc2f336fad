import { randomBytes } from 'node:crypto';
import { errors, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { roles } from '@wa-bridge/shared/roles';
import type { IssuerTrust } from './token-validator.js';

export const sandboxAudience = 'urn:wa-bridge:sandbox';
const lifetimeSeconds = 8 * 3600;

export interface SandboxSignIn {
  trust: IssuerTrust;
  /** A token for the demo user, holding every role. */
  issue(): Promise<{ accessToken: string; expiresAt: number; user: { upn: string; name: string } }>;
}

/**
 * The sandbox's sign-in: a key pair made when the process starts and never written anywhere, so
 * its tokens are worth nothing to any other bridge and nothing after a restart. The bridge trusts
 * this key only when it runs as the sandbox.
 */
export async function createSandboxSignIn(firmDomain: string): Promise<SandboxSignIn> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256' };
  const verifyKey = await importJWK(publicJwk, 'RS256');
  const issuer = `urn:wa-bridge:sandbox:${kid}`;
  const user = { upn: `demo.solicitor@${firmDomain}`, name: 'Demo Solicitor (sandbox)' };
  return {
    trust: {
      issuer,
      audience: [sandboxAudience],
      keys: async (header) => {
        if (header.kid !== kid) throw new errors.JWKSNoMatchingKey();
        return verifyKey;
      },
      sandbox: true,
    },
    async issue() {
      const now = Math.floor(Date.now() / 1000);
      const accessToken = await new SignJWT({ oid: `sandbox-${kid}`, preferred_username: user.upn, name: user.name, roles: [...roles], sandbox: true })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(sandboxAudience)
        .setIssuedAt(now)
        .setExpirationTime(now + lifetimeSeconds)
        .sign(privateKey);
      return { accessToken, expiresAt: (now + lifetimeSeconds) * 1000, user };
    },
  };
}
