import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphUserDirectory } from '../../bridge-server/src/auth/graph-directory.js';
import { UpstreamError } from '../../bridge-server/src/core/errors.js';
import { startGraphDouble, type GraphDouble } from '../support/graph-double.js';

const tenantId = '00000000-0000-4000-8000-00000000beef';
let graph: GraphDouble;
let directory: GraphUserDirectory;

beforeAll(async () => {
  graph = await startGraphDouble({ tenantId, clientId: 'api-client-id', clientSecret: 'api-client-secret', users: [{ userPrincipalName: 'Frank.Trainee@firm.test', displayName: 'Frank Trainee', mail: 'frank@firm.test' }] });
  directory = new GraphUserDirectory(
    { tenantId, clientId: 'api-client-id', clientSecret: 'api-client-secret', graphBaseUrl: graph.url, authorityHost: 'https://login.microsoftonline.com' },
    { networkClient: graph.networkClient },
  );
});
afterAll(() => graph?.stop());

describe('finding matter members in Microsoft Graph on behalf of the user', () => {
  it("trades the user's token for a Graph token and reads the user", async () => {
    const found = await directory.findUser('frank.trainee@firm.test', 'user-api-token-1');
    expect(found).toEqual({ upn: 'Frank.Trainee@firm.test', name: 'Frank Trainee' });
    expect(graph.tokenRequests.at(-1)).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      assertion: 'user-api-token-1',
      client_id: 'api-client-id',
    });
    // Graph by its resource identifier, whatever address WA_BRIDGE_GRAPH_BASE_URL gives.
    expect(graph.tokenRequests.at(-1)!.scope!.split(' ')).toContain('https://graph.microsoft.com/User.ReadBasic.All');
    const issued = graph.issued.find((t) => t.assertion === 'user-api-token-1')!;
    expect(graph.userRequests.at(-1)).toEqual({ id: 'frank.trainee@firm.test', select: 'userPrincipalName,displayName', token: issued.accessToken, status: 200 });
  });

  it('finds someone by a mail address that is not their sign-in name, asking Graph for the mail when no UPN matches', async () => {
    expect(await directory.findUser('frank@firm.test', 'user-api-token-4')).toEqual({ upn: 'Frank.Trainee@firm.test', name: 'Frank Trainee' });
    const token = graph.issued.find((t) => t.assertion === 'user-api-token-4')!.accessToken;
    expect(graph.userRequests.slice(-2)).toEqual([
      { id: 'frank@firm.test', select: 'userPrincipalName,displayName', token, status: 404 },
      { filter: "mail eq 'frank@firm.test'", select: 'userPrincipalName,displayName', token, status: 200 },
    ]);
  });

  it('quotes an apostrophe in the address as OData does', async () => {
    expect(await directory.findUser("o'brien@firm.test", 'user-api-token-5')).toBeUndefined();
    expect(graph.userRequests.at(-1)).toMatchObject({ filter: "mail eq 'o''brien@firm.test'", status: 200 });
  });

  it('answers undefined for an address nobody has', async () => {
    expect(await directory.findUser('nobody@firm.test', 'user-api-token-2')).toBeUndefined();
  });

  it('reports a refused on-behalf-of exchange as an upstream failure', async () => {
    graph.refuseNextExchange({ status: 400, error: 'invalid_grant', code: 50013, description: 'Assertion failed signature validation.' });
    const error = await directory.findUser('frank.trainee@firm.test', 'user-api-token-3').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).message).toContain('sign-in name');
  });
});
