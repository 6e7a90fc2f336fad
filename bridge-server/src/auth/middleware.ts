import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Principal } from '../core/access.js';
import { UnauthorizedError } from '../core/errors.js';
import { sendProblem } from '../api/problem.js';
import type { TokenValidator } from './token-validator.js';

/**
 * Requires a valid bearer token and puts the user in `res.locals.principal`. The token comes from
 * the Authorization header; only where `allowQueryToken` is set (the event stream, because
 * EventSource cannot send headers) also from `?access_token=`, checked identically. Without a
 * validator (sign-in not configured) every call is refused with a problem saying what to set.
 */
export function requireUser(validator: TokenValidator | undefined, options: { allowQueryToken?: boolean } = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!validator) {
      sendProblem(res, 503, 'auth_not_configured', 'Sign-in is not configured on this bridge: set WA_BRIDGE_AUTH_TENANT_ID and WA_BRIDGE_AUTH_AUDIENCE.');
      return;
    }
    const token = bearerToken(req, options.allowQueryToken === true);
    if (!token) {
      unauthorized(res, new UnauthorizedError('token_missing', 'Sign in first: the request carries no "Authorization: Bearer <access token>" header.'));
      return;
    }
    validator.validate(token).then(
      (principal) => {
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => {
        if (error instanceof UnauthorizedError) unauthorized(res, error);
        else next(error);
      },
    );
  };
}

function bearerToken(req: Request, allowQuery: boolean): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  if (allowQuery && typeof req.query.access_token === 'string' && req.query.access_token.length > 0) return req.query.access_token;
  return undefined;
}

// RFC 6750 3: a 401 names the scheme and the error, so clients know to get a new token.
function unauthorized(res: Response, error: UnauthorizedError): void {
  res.setHeader('WWW-Authenticate', `Bearer error="${error.code === 'token_missing' ? 'invalid_request' : 'invalid_token'}"`);
  sendProblem(res, 401, error.code, error.message);
}

/** The signed-in user of this request (set by requireUser). */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new UnauthorizedError('token_missing', 'Sign in first.');
  return principal;
}

