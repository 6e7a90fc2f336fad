import { afterAll, beforeAll, expect } from 'vitest';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import type { StartOptions } from '../../bridge-server/src/app.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from './bridge.js';
import { startTokenIssuer, type TestUser, type TokenIssuer } from './token-issuer.js';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * A bridge configured like a deployment (Cloud API through the simulator, mail to a catcher) that
 * trusts a local token issuer, plus helpers to call its API as a given user and to make a client
 * write in through the real webhook.
 */
export interface ApiWorld {
  world: BridgeWorld;
  catcher: MailCatcher;
  issuer: TokenIssuer;
  token(user: TestUser): Promise<string>;
  // Answers are untyped JSON that the tests check field by field with expect.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call<T = any>(token: string | undefined, method: string, path: string, body?: unknown): Promise<ApiAnswer<T>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  as(user: TestUser): <T = any>(method: string, path: string, body?: unknown) => Promise<ApiAnswer<T>>;
  clientWrites(from: string, text: string, options?: { name?: string; timestamp?: Date }): Promise<{ conversationId: number; waMessageId: string }>;
}

export const users = {
  solicitorA: { upn: 'alice.solicitor@firm.test', name: 'Alice Solicitor', roles: ['Solicitor'] },
  solicitorB: { upn: 'bob.solicitor@firm.test', name: 'Bob Solicitor', roles: ['Solicitor'] },
  caseHandler: { upn: 'carol.handler@firm.test', name: 'Carol Handler', roles: ['CaseHandler'] },
  compliance: { upn: 'dave.compliance@firm.test', name: 'Dave Compliance', roles: ['ComplianceOfficer'] },
  admin: { upn: 'erin.admin@firm.test', name: 'Erin Admin', roles: ['Admin'] },
} satisfies Record<string, TestUser>;

/**
 * `env` may be a function, read when the bridge starts (after the suite's earlier beforeAll hooks,
 * e.g. one that starts a Microsoft Graph double); so may `graphNetworkClient`.
 */
export function useApiWorld(
  env: Record<string, string> | (() => Record<string, string>) = {},
  options: { graphNetworkClient?: () => NonNullable<StartOptions['graphNetworkClient']> } = {},
): ApiWorld {
  const handle = {} as ApiWorld;
  beforeAll(async () => {
    handle.issuer = await startTokenIssuer();
    handle.catcher = await startMailCatcher({});
    handle.world = await startBridgeWorld({
      smtpUrl: handle.catcher.url,
      mailbox: 'solicitors@firm.test',
      env: { ...handle.issuer.env, ...(typeof env === 'function' ? env() : env) },
      ...(options.graphNetworkClient ? { graphNetworkClient: options.graphNetworkClient() } : {}),
    });
  });
  afterAll(async () => {
    await handle.world?.stop();
    await handle.catcher?.stop();
    await handle.issuer?.stop();
  });
  handle.token = (user) => handle.issuer.sign(user);
  handle.call = async (token, method, path, body) => {
    const response = await fetch(`${handle.world.bridge.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text && /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : text };
  };
  handle.as = (user) => {
    let token: Promise<string> | undefined;
    return async (method, path, body) => handle.call(await (token ??= handle.token(user)), method, path, body);
  };
  handle.clientWrites = async (from, text, options = {}) => {
    const { simulator, bridge } = handle.world;
    const envelope = simulator.inboundMessage({ from, name: options.name ?? 'Jane Client', type: 'text', body: text, timestamp: options.timestamp ?? new Date() });
    expect((await simulator.postWebhook(envelope)).status).toBe(200);
    const waMessageId = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
    let conversationId = 0;
    await waitFor(
      async () => {
        const row = await bridge.store.db.selectFrom('events').select('conversation_id').where('wa_message_id', '=', waMessageId).executeTakeFirst();
        conversationId = row?.conversation_id ?? 0;
        return conversationId > 0;
      },
      5000,
      () => 'event not stored',
    );
    return { conversationId, waMessageId };
  };
  return handle;
}
