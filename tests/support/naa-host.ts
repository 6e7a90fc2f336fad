import { SignJWT } from 'jose';
import type { TestUser, TokenIssuer } from './token-issuer.js';

/**
 * The host side of nested app authentication, as Outlook's broker answers MSAL browser over
 * `window.nestedAppAuthBridge` (office-stub.ts carries the messages). Shapes as MSAL browser
 * defines them (src/naa: BridgeRequestEnvelope, BridgeResponseEnvelope, InitContext, TokenResponse,
 * AccountInfo, BridgeError): every answer is a JSON `NestedAppAuthResponse` with the request's
 * `requestId` and `success`; GetInitContext answers `initContext`, GetToken (silent) and
 * GetTokenPopup (interactive) answer `token` and `account`, or `error` with a BridgeStatusCode.
 * The access token is one of the local test issuer's, for the API scope the app asked for, so
 * the bridge validates it like an Entra ID token.
 */
export interface BridgeRequest {
  messageType: 'NestedAppAuthRequest';
  method: 'GetInitContext' | 'GetToken' | 'GetTokenPopup';
  requestId: string;
  sendTime?: number;
  clientLibrary?: string;
  clientLibraryVersion?: string;
  tokenParams?: { clientId: string; scope: string; correlationId: string; authority?: string; [key: string]: unknown };
}

export interface BridgeError {
  status: 'USER_INTERACTION_REQUIRED' | 'USER_CANCEL' | 'NO_NETWORK' | 'TRANSIENT_ERROR' | 'PERSISTENT_ERROR' | 'DISABLED' | 'ACCOUNT_UNAVAILABLE' | 'NESTED_APP_AUTH_UNAVAILABLE';
  code?: string;
  subError?: string;
  description?: string;
}

export interface NaaHost {
  /** Every request MSAL posted, in order. */
  requests: BridgeRequest[];
  /** The access tokens handed out. */
  issued: string[];
  /** Answers one posted message (a JSON string) with a JSON response envelope. */
  answer(message: string): Promise<string>;
}

export function naaHost(options: {
  issuer: TokenIssuer;
  user: TestUser;
  /** The app registration the add-in was built for; other client ids are refused. */
  clientId: string;
  /** The API scope a token is handed out for. */
  apiScope: string;
  /** Makes GetToken (silent) or GetTokenPopup fail with this error. */
  fail?: { GetToken?: BridgeError; GetTokenPopup?: BridgeError };
}): NaaHost {
  const { issuer, user, clientId, apiScope } = options;
  const oid = user.oid ?? `oid-${user.upn}`;
  const requests: BridgeRequest[] = [];
  const issued: string[] = [];
  const account = { homeAccountId: `${oid}.${issuer.tenantId}`, environment: 'login.microsoftonline.com', tenantId: issuer.tenantId, username: user.upn, localAccountId: oid, name: user.name ?? user.upn };

  async function idToken(): Promise<string> {
    // MSAL reads the ID token's claims (it does not check its signature: the host did).
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ oid, tid: issuer.tenantId, preferred_username: user.upn, name: user.name ?? user.upn, ver: '2.0' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(issuer.issuer)
      .setAudience(clientId)
      .setSubject(`sub-${user.upn}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode('id-token-key-of-the-test-host-only'));
  }

  return {
    requests,
    issued,
    async answer(message) {
      const request = JSON.parse(message) as BridgeRequest;
      requests.push(request);
      const reply = (body: object) => JSON.stringify({ messageType: 'NestedAppAuthResponse', requestId: request.requestId, ...body });
      if (request.messageType !== 'NestedAppAuthRequest') return reply({ success: false, error: { status: 'PERSISTENT_ERROR', description: 'not a NestedAppAuthRequest' } });
      if (request.method === 'GetInitContext') return reply({ success: true, initContext: { sdkName: 'Outlook stand-in', sdkVersion: '1.0.0', capabilities: { queryAccount: false } } });
      const failure = options.fail?.[request.method];
      if (failure) return reply({ success: false, error: failure });
      const params = request.tokenParams;
      if (!params || params.clientId !== clientId) return reply({ success: false, error: { status: 'PERSISTENT_ERROR', code: 'unauthorized_client', description: `unknown client id ${params?.clientId}` } });
      if (!params.scope.split(' ').includes(apiScope)) return reply({ success: false, error: { status: 'PERSISTENT_ERROR', code: 'invalid_scope', description: `scope ${params.scope} is not the API's` } });
      const accessToken = await issuer.sign(user);
      issued.push(accessToken);
      return reply({
        success: true,
        token: { access_token: accessToken, expires_in: 3600, id_token: await idToken(), properties: null, scope: apiScope },
        account,
      });
    },
  };
}
