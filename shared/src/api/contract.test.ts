import { describe, expect, it } from 'vitest';
import { apiPaths } from './contract.js';
import { problemSchema } from './common.js';
import { replyRequestSchema } from './conversations.js';
import { createMatterSchema } from './matters.js';
import { searchQuery } from './search.js';
import { streamEventSchema } from './stream.js';
import { createApiClient, ApiError, BridgeUnreachableError } from './client.js';

describe('API contract schemas', () => {
  it('accepts the problem documents the server writes, including window_closed extras', () => {
    const problem = { type: 'urn:wa-bridge:problem:window_closed', status: 409, code: 'window_closed', title: 'Conflict', detail: 'closed', templates: [{ name: 'hello', language: 'en_GB', parameterLabels: ['Client name'] }], closesAt: '2026-11-25T10:00:00.000Z' };
    expect(problemSchema.parse(problem)).toEqual(problem);
  });

  it('refuses a reply file that is not base64 and an over-long text, naming the fields', () => {
    const result = replyRequestSchema.safeParse({ text: 'x'.repeat(4097), files: [{ fileName: 'a.pdf', mimeType: 'application/pdf', contentBase64: 'not base64!' }] });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['text', 'files.0.contentBase64']));
  });

  it('trims matter fields and refuses a reference with spaces', () => {
    expect(createMatterSchema.parse({ reference: ' SMI-1 ', title: ' Sale ' })).toMatchObject({ reference: 'SMI-1', title: 'Sale', members: [] });
    expect(createMatterSchema.safeParse({ reference: 'SMI 1', title: 'Sale' }).success).toBe(false);
  });

  it('coerces search filters from query text and refuses a bad direction', () => {
    expect(searchQuery.parse({ q: 'lease', matterId: '3', limit: '5' })).toMatchObject({ q: 'lease', matterId: 3, limit: 5 });
    expect(searchQuery.safeParse({ q: 'lease', direction: 'sideways' }).success).toBe(false);
  });

  it('tells stream events apart by type and refuses unknown ones', () => {
    expect(streamEventSchema.parse({ type: 'ready', at: '2026-11-25T10:00:00.000Z' }).type).toBe('ready');
    expect(streamEventSchema.safeParse({ type: 'gossip' }).success).toBe(false);
  });
});

describe('API client', () => {
  const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('sends the bearer token from the callback and checks the answer against the contract', async () => {
    const seen: Array<{ url: string; auth: string | null }> = [];
    const client = createApiClient({
      baseUrl: 'http://bridge.test',
      getToken: async () => 'tok-1',
      fetch: async (input, init) => {
        seen.push({ url: String(input), auth: new Headers(init?.headers).get('authorization') });
        return answer(200, { user: { id: 'o', upn: 'a@b.c', name: null }, roles: ['Admin'], sandbox: false, can: { reply: true, link: true, manageMatters: true, admin: true, seeAll: true, holds: false } });
      },
    });
    expect((await client.me()).roles).toEqual(['Admin']);
    expect(seen).toEqual([{ url: 'http://bridge.test/api/me', auth: 'Bearer tok-1' }]);
  });

  it('throws ApiError with the problem document on an error answer', async () => {
    const client = createApiClient({ baseUrl: '', getToken: async () => 't', fetch: async () => answer(403, { type: 'urn:x', status: 403, code: 'forbidden', title: 'Forbidden', detail: 'No.' }) });
    const error = await client.getMatter(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('forbidden');
  });

  it('renews the token once when a call is refused with 401, and tries the call again', async () => {
    const me = { user: { id: 'o', upn: 'a@b.c', name: null }, roles: ['Solicitor'], sandbox: true, can: { reply: true, link: true, manageMatters: false, admin: false, seeAll: false, holds: false } };
    const unauthorized = { type: 'urn:x', status: 401, code: 'token_invalid', title: 'Unauthorized', detail: 'The access token was issued by an authority this bridge does not trust.' };
    let token = 'old';
    let renewals = 0;
    const seen: string[] = [];
    const client = createApiClient({
      baseUrl: '',
      getToken: async () => token,
      renewToken: async () => {
        renewals += 1;
        token = `new-${renewals}`;
      },
      fetch: async (_input, init) => {
        const auth = new Headers(init?.headers).get('authorization')!;
        seen.push(auth);
        return auth === 'Bearer new-1' ? answer(200, me) : answer(401, unauthorized);
      },
    });
    expect((await client.me()).roles).toEqual(['Solicitor']);
    expect(seen).toEqual(['Bearer old', 'Bearer new-1']);
    // Refused again after the renewal: the 401 comes through, with no loop of renewals.
    token = 'stale';
    renewals = 5;
    const error = await client.me().catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(401);
    expect(renewals).toBe(6);
  });

  it('says the bridge cannot be reached when no answer comes at all', async () => {
    const client = createApiClient({ baseUrl: '', getToken: async () => 't', fetch: async () => Promise.reject(new TypeError('Failed to fetch')) });
    const error = await client.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BridgeUnreachableError);
    expect((error as Error).message).toBe('The bridge cannot be reached (it may be stopped or restarting). Nothing was changed; try again in a moment.');
  });

  it('fails loudly when an answer does not match the contract', async () => {
    const client = createApiClient({ baseUrl: '', getToken: async () => 't', fetch: async () => answer(200, { user: {} }) });
    await expect(client.me()).rejects.toThrow();
  });
});

describe('route paths', () => {
  it('encodes a chat id taken from a mail header', () => {
    expect(apiPaths.conversationByChatId('abc/../x')).toBe('/api/conversations/by-chat-id/abc%2F..%2Fx');
  });
});
