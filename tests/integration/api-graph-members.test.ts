import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { useApiWorld, users } from '../support/api-world.js';
import { startGraphDouble, type GraphDouble } from '../support/graph-double.js';
import { testAudience, testTenantId } from '../support/token-issuer.js';

/**
 * Adding someone to a matter by sign-in address, through the API: a bridge that trusts the local
 * token issuer and holds the API app registration's credentials looks the person up in Microsoft
 * Graph on behalf of the caller (a local double of Entra ID and Graph, reached through the same
 * settings and MSAL network client the Graph mail route uses). Entra ID's stand-in only exchanges
 * an assertion issued for the bridge's API audience, so only the caller's own token gets through.
 */
const clientId = 'bridge-api-client';
const clientSecret = 'bridge-api-secret';
const frank = { id: '7c1e6f0a-3b2d-4f5e-8a9b-0c1d2e3f4a5b', userPrincipalName: 'Frank.Trainee@firm.test', displayName: 'Frank Trainee', mail: 'frank@firm.test' };

let graph: GraphDouble;
beforeAll(async () => {
  graph = await startGraphDouble({ tenantId: testTenantId, clientId, clientSecret, users: [frank], assertionAudiences: [testAudience] });
});
afterAll(async () => {
  await graph?.stop();
});

const api = useApiWorld(() => ({ WA_BRIDGE_AUTH_CLIENT_ID: clientId, WA_BRIDGE_AUTH_CLIENT_SECRET: clientSecret, WA_BRIDGE_GRAPH_BASE_URL: graph.url }), {
  graphNetworkClient: () => graph.networkClient,
});

/** The Graph access token the double issued in exchange for `assertion` (the caller's API token). */
const issuedFor = (assertion: string) => graph.issued.filter((t) => t.assertion === assertion).map((t) => t.accessToken);

async function newMatter(token: string, reference: string): Promise<number> {
  const created = await api.call(token, 'POST', '/api/matters', { reference, title: 'Estate of A. Client' });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as number;
}

describe('adding a matter member found in Microsoft Graph on behalf of the caller', () => {
  it("exchanges the caller's token on behalf of them and stores the person as Graph names them", async () => {
    const alice = await api.token(users.solicitorA);
    const id = await newMatter(alice, 'GRA-1');

    const added = await api.call(alice, 'POST', `/api/matters/${id}/members`, { email: 'FRANK.TRAINEE@firm.test' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body.members).toContainEqual({ upn: 'frank.trainee@firm.test', name: 'Frank Trainee' });

    // The on-behalf-of request, as the Microsoft identity platform documents it, with Alice's own token.
    const exchanges = graph.tokenRequests.filter((r) => r.assertion === alice);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: clientId,
      client_secret: clientSecret,
    });
    expect(exchanges[0]!.scope!.split(' ')).toContain('https://graph.microsoft.com/User.ReadBasic.All');
    // Graph was asked for that person with the token issued for Alice, and answered.
    expect(graph.userRequests.at(-1)).toEqual({ id: 'FRANK.TRAINEE@firm.test', select: 'userPrincipalName,displayName', token: issuedFor(alice)[0], status: 200 });

    // Stored: read back, and Frank, signing in with that name, is on the matter.
    const read = await api.call(alice, 'GET', `/api/matters/${id}`);
    expect(read.body.members).toEqual([
      { upn: users.solicitorA.upn, name: users.solicitorA.name },
      { upn: 'frank.trainee@firm.test', name: 'Frank Trainee' },
    ]);
    const asFrank = await api.call(await api.token({ upn: 'frank.trainee@firm.test', name: 'Frank Trainee', roles: ['CaseHandler'] }), 'GET', `/api/matters/${id}`);
    expect(asFrank.status).toBe(200);
  });

  it('finds someone by their mail address when it is not their sign-in name, and stores the sign-in name', async () => {
    const alice = await api.token(users.solicitorA);
    const id = await newMatter(alice, 'GRA-5');
    const added = await api.call(alice, 'POST', `/api/matters/${id}/members`, { email: 'frank@firm.test' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body.members).toContainEqual({ upn: 'frank.trainee@firm.test', name: 'Frank Trainee' });
    expect(added.body.members.map((m: { upn: string }) => m.upn)).not.toContain('frank@firm.test');
    expect(graph.userRequests.at(-1)).toMatchObject({ filter: "mail eq 'frank@firm.test'", status: 200 });
  });

  it('refuses an address Graph does not know with a problem document, and adds nobody', async () => {
    const alice = await api.token(users.solicitorA);
    const id = await newMatter(alice, 'GRA-2');
    const lookupsBefore = graph.userRequests.length;

    const refused = await api.call(alice, 'POST', `/api/matters/${id}/members`, { email: 'nobody@firm.test' });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 400, code: 'unknown_user', errors: [{ path: 'email', message: 'not found in the directory' }] });
    expect(refused.body.detail).toContain('nobody@firm.test');
    // Graph was asked, on Alice's behalf: no such user, and nobody with that mail.
    const token = expect.toBeOneOf(issuedFor(alice));
    expect(graph.userRequests.slice(lookupsBefore)).toEqual([
      { id: 'nobody@firm.test', select: 'userPrincipalName,displayName', token, status: 404 },
      { filter: "mail eq 'nobody@firm.test'", select: 'userPrincipalName,displayName', token, status: 200 },
    ]);

    expect((await api.call(alice, 'GET', `/api/matters/${id}`)).body.members).toEqual([{ upn: users.solicitorA.upn, name: users.solicitorA.name }]);

    // The same when creating a matter with that member: no matter is made.
    const create = await api.call(alice, 'POST', '/api/matters', { reference: 'GRA-3', title: 'Lease', members: ['nobody@firm.test'] });
    expect(create.status).toBe(400);
    expect(create.body.code).toBe('unknown_user');
    const list = await api.call(alice, 'GET', '/api/matters');
    expect((list.body.items as Array<{ reference: string }>).map((m) => m.reference)).not.toContain('GRA-3');
  });

  it('answers a refused on-behalf-of exchange with an upstream problem that says what to do instead', async () => {
    const alice = await api.token(users.solicitorA);
    const id = await newMatter(alice, 'GRA-4');
    // A caller whose token Entra ID has not exchanged yet (the bridge keeps Alice's Graph token).
    const erin = await api.token(users.admin);
    graph.refuseNextExchange({ status: 400, error: 'invalid_grant', code: 50013, description: 'Assertion failed signature validation.' });

    const failed = await api.call(erin, 'POST', `/api/matters/${id}/members`, { email: 'frank.trainee@firm.test' });
    expect(failed.status).toBe(502);
    expect(failed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(failed.body).toMatchObject({ status: 502, code: 'upstream_failed' });
    expect(failed.body.detail).toContain('sign-in name');
    expect(graph.tokenRequests.at(-1)).toMatchObject({ assertion: erin, requested_token_use: 'on_behalf_of' });
    expect(issuedFor(erin)).toEqual([]);
    expect((await api.call(alice, 'GET', `/api/matters/${id}`)).body.members).toHaveLength(1);
  });
});
