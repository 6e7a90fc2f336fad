import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { roles as knownRoles, type Role } from '@wa-bridge/shared/roles';
import type { Principal } from '../core/access.js';
import { UnauthorizedError, UpstreamError } from '../core/errors.js';
import { normalizeUpn } from '../core/matters.js';

/** One issuer the bridge accepts tokens from: Entra ID for the tenant, or the sandbox's own key. */
export interface IssuerTrust {
  issuer: string;
  audience: string[];
  keys: JWTVerifyGetKey;
  /** Tokens of this issuer are the sandbox's demo identity. */
  sandbox: boolean;
}

/** Entra ID's signing keys for the tenant, fetched and cached by jose (refetched on an unknown kid). */
export function entraTrust(settings: { issuer: string; jwksUrl: string; audience: string[] }): IssuerTrust {
  return { issuer: settings.issuer, audience: settings.audience, keys: createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 5000 }), sandbox: false };
}

/**
 * Checks an access token's signature (RS256, a key of the issuer's JWKS), issuer, audience and
 * lifetime, and reads who it names and their app roles. Throws UnauthorizedError with a code
 * saying what was wrong (never the token itself), or UpstreamError when the key set cannot be
 * fetched.
 */
export class TokenValidator {
  constructor(private readonly trusts: IssuerTrust[]) {}

  async validate(token: string): Promise<Principal> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new UnauthorizedError('token_malformed', 'The access token is not a JWT.');
    }
    const trust = this.trusts.find((t) => t.issuer === unverified.iss);
    if (!trust) throw new UnauthorizedError('token_wrong_issuer', 'The access token was issued by an authority this bridge does not trust (check the tenant).');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, trust.keys, { issuer: trust.issuer, audience: trust.audience, algorithms: ['RS256'], clockTolerance: 60, requiredClaims: ['exp'] }));
    } catch (error) {
      throw toAuthError(error);
    }
    return toPrincipal(payload, trust.sandbox);
  }
}

function toAuthError(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new UnauthorizedError('token_expired', 'The access token has expired; sign in again.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return new UnauthorizedError('token_wrong_audience', 'The access token is meant for another application (its audience is not this bridge).');
    if (error.claim === 'iss') return new UnauthorizedError('token_wrong_issuer', 'The access token was issued by an authority this bridge does not trust.');
    if (error.claim === 'nbf') return new UnauthorizedError('token_not_yet_valid', 'The access token is not valid yet; check the clock.');
    return new UnauthorizedError('token_invalid', `The access token's "${error.claim}" claim is not acceptable.`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return new UnauthorizedError('token_unknown_key', 'The access token is signed with a key the issuer does not publish.');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new UnauthorizedError('token_bad_signature', 'The access token signature does not verify.');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || (error instanceof Error && error.name === 'TypeError')) {
    return new UpstreamError('entra-id', 'The signing keys of the identity provider could not be fetched; try again shortly.', 'transient');
  }
  if (error instanceof errors.JOSEError) return new UnauthorizedError('token_invalid', 'The access token is not valid.');
  return error instanceof Error ? error : new Error(String(error));
}

function toPrincipal(payload: JWTPayload, sandbox: boolean): Principal {
  const claim = (name: string) => (typeof payload[name] === 'string' ? (payload[name] as string) : undefined);
  const id = claim('oid') ?? payload.sub;
  const upn = claim('preferred_username') ?? claim('upn') ?? claim('email');
  if (!id || !upn) throw new UnauthorizedError('token_invalid', 'The access token names no user (oid and preferred_username or upn are required).');
  const claimed = Array.isArray(payload.roles) ? payload.roles : [];
  const roles = knownRoles.filter((role): role is Role => claimed.includes(role));
  return { id, upn: normalizeUpn(upn), name: claim('name') ?? null, roles, sandbox, ...(payload.exp !== undefined ? { expiresAt: payload.exp * 1000 } : {}) };
}
