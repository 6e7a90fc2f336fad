import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge-server/src/config/load.js';
import { startBridge } from '../../bridge-server/src/app.js';
import { createLogger } from '../../bridge-server/src/ops/logger.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useApiWorld, users } from '../support/api-world.js';
import { startBridgeWorld } from '../support/bridge.js';
import { startTokenIssuer } from '../support/token-issuer.js';

const api = useApiWorld();

describe('API sign-in with Entra ID access tokens', () => {
  const expectUnauthorized = async (token: string | undefined, code: string) => {
    const answer = await api.call(token, 'GET', '/api/me');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_(token|request)"$/);
    expect(answer.body).toMatchObject({ status: 401, code, title: 'Unauthorized' });
    expect(answer.body.detail.length).toBeGreaterThan(10);
    return answer;
  };

  it('accepts a valid token and reports the user, the roles and what they may do', async () => {
    const answer = await api.as(users.compliance)('GET', '/api/me');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({
      user: { id: 'oid-dave.compliance@firm.test', upn: 'dave.compliance@firm.test', name: 'Dave Compliance' },
      roles: ['ComplianceOfficer'],
      sandbox: false,
      can: { reply: false, link: false, manageMatters: false, admin: false, seeAll: true, holds: true },
    });
  });

  it('refuses a request without a token', async () => {
    await expectUnauthorized(undefined, 'token_missing');
  });

  it('refuses an expired token', async () => {
    await expectUnauthorized(await api.issuer.sign(users.admin, { expiresIn: -3600 }), 'token_expired');
  });

  it('refuses a token for another audience', async () => {
    await expectUnauthorized(await api.issuer.sign(users.admin, { audience: 'api://some-other-app' }), 'token_wrong_audience');
  });

  it('refuses a token from another issuer (another tenant)', async () => {
    await expectUnauthorized(await api.issuer.sign(users.admin, { issuer: 'https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555/v2.0' }), 'token_wrong_issuer');
  });

  it('refuses a token signed with a key the issuer does not publish', async () => {
    await expectUnauthorized(await api.issuer.sign(users.admin, { key: 'unpublished' }), 'token_unknown_key');
  });

  it('refuses a token whose signature was tampered with, and garbage', async () => {
    const token = await api.issuer.sign(users.solicitorA);
    const [header, payload] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['Admin'] })).toString('base64url');
    await expectUnauthorized(`${header}.${forged}.${token.split('.')[2]}`, 'token_bad_signature');
    await expectUnauthorized('not-a-jwt', 'token_malformed');
  });

  it('takes the token from the query string only on the event stream', async () => {
    const token = await api.token(users.admin);
    const answer = await api.call(undefined, 'GET', `/api/me?access_token=${token}`);
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('token_missing');
  });

  it('offers no demo sign-in outside the sandbox', async () => {
    const answer = await api.call(undefined, 'GET', '/api/sandbox/token');
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('not_sandbox');
  });

  it('answers unknown API routes and bad ids with problem documents', async () => {
    const call = api.as(users.admin);
    expect((await call('GET', '/api/nothing-here')).body).toMatchObject({ status: 404, code: 'not_found' });
    expect((await call('GET', '/api/conversations/abc')).body).toMatchObject({ status: 400, code: 'bad_id' });
    const bad = await call('POST', '/api/matters', { reference: 'has space', title: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['reference', 'title']);
  });
});

describe('API sign-in with WA_BRIDGE_AUTH_ISSUER set', () => {
  it('expects the configured issuer instead of the one derived from the tenant', async () => {
    // A sovereign cloud's issuer: the tenant stays the same, the host differs.
    const issuer = await startTokenIssuer({ issuer: 'https://login.microsoftonline.us/00000000-0000-4000-8000-00000000beef/v2.0' });
    const world = await startBridgeWorld({ smtpUrl: 'smtp://127.0.0.1:9', mailbox: 'a@firm.test', env: issuer.env });
    try {
      expect(world.env.WA_BRIDGE_AUTH_ISSUER).toBe(issuer.issuer);
      const me = (token: string) => fetch(`${world.bridge.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      const accepted = await me(await issuer.sign(users.admin));
      expect(accepted.status).toBe(200);
      expect((await accepted.json()).user.upn).toBe(users.admin.upn);

      // The issuer Entra ID's global cloud writes for this very tenant is now someone else's.
      const entra = await me(await issuer.sign(users.admin, { issuer: `https://login.microsoftonline.com/${issuer.tenantId}/v2.0` }));
      expect(entra.status).toBe(401);
      expect((await entra.json()).code).toBe('token_wrong_issuer');
    } finally {
      await world.stop();
      await issuer.stop();
    }
  });
});

describe('API sign-in when nothing is configured', () => {
  it('refuses every call with a problem naming the settings, and the sandbox signs in a marked demo user', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wab-auth-'));
    const sandbox = await startBridge(loadConfig({ PORT: '0', WA_BRIDGE_HOST: '127.0.0.1', WA_BRIDGE_DATA_DIR: dataDir, WA_BRIDGE_SANDBOX: 'on' }, undefined), {
      logger: createLogger('silent'),
    });
    try {
      const issued = await (await fetch(`${sandbox.url}/api/sandbox/token`)).json();
      expect(issued.user.name).toContain('sandbox');
      expect(issued.notice).toMatch(/not a real person/);
      const me = await (await fetch(`${sandbox.url}/api/me`, { headers: { authorization: `Bearer ${issued.accessToken}` } })).json();
      expect(me).toMatchObject({ sandbox: true, roles: ['Solicitor', 'CaseHandler', 'ComplianceOfficer', 'Admin'] });

      // A sandbox token means nothing to a bridge that is not that sandbox.
      const refused = await api.call(issued.accessToken, 'GET', '/api/me');
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('token_wrong_issuer');
    } finally {
      await sandbox.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('tells the caller sign-in is not configured outside the sandbox', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wab-auth-'));
    const env = { PORT: '0', WA_BRIDGE_HOST: '127.0.0.1', WA_BRIDGE_DATA_DIR: dataDir, WA_BRIDGE_SMTP_URL: api.catcher.url, WA_BRIDGE_MAILBOX: 'a@firm.test', WA_BRIDGE_MAIL_DOMAIN: 'wa.firm.test' };
    const bridge = await startBridge(loadConfig(env, undefined), { logger: createLogger('silent') });
    try {
      const answer = await fetch(`${bridge.url}/api/me`, { headers: { authorization: `Bearer ${await api.token(users.admin)}` } });
      expect(answer.status).toBe(503);
      expect((await answer.json()).detail).toContain('WA_BRIDGE_AUTH_TENANT_ID');
    } finally {
      await bridge.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
