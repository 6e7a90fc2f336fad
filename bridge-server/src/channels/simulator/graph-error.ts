import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

/**
 * Graph API error answers in Meta's shape: `{error: {message, type, code, error_subcode?,
 * error_data?, fbtrace_id}}` (Meta "Error codes" reference). The simulator answers every failure
 * this way so clients classify them with the same code they use against Meta.
 */
export interface GraphErrorFields {
  message: string;
  type: 'OAuthException' | 'GraphMethodException';
  code: number;
  subcode?: number;
  details?: string;
}

export function sendGraphError(res: Response, status: number, fields: GraphErrorFields): void {
  if (fields.code === 190) res.set('WWW-Authenticate', 'OAuth "Facebook Platform" "invalid_token" "simulated"');
  res.status(status).json({
    error: {
      message: fields.message,
      type: fields.type,
      code: fields.code,
      ...(fields.subcode !== undefined ? { error_subcode: fields.subcode } : {}),
      ...(fields.details !== undefined ? { error_data: { messaging_product: 'whatsapp', details: fields.details } } : {}),
      fbtrace_id: `SIM${randomBytes(8).toString('base64url')}`,
    },
  });
}

export const invalidToken: GraphErrorFields = { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 };

export function unknownObject(id: string, method: 'get' | 'post'): GraphErrorFields {
  return {
    message: `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    type: 'GraphMethodException',
    code: 100,
    subcode: 33,
  };
}

export function invalidParameter(details: string): GraphErrorFields {
  return { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100, details };
}
