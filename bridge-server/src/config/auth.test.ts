import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './load.js';

const base = { WA_BRIDGE_SANDBOX: 'on', WA_BRIDGE_DATA_DIR: '/tmp/wab-config-test' };
const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';

describe('API sign-in settings', () => {
  it('derives the v2 issuer and key set from the tenant', () => {
    const config = loadConfig({ ...base, WA_BRIDGE_AUTH_TENANT_ID: tenant, WA_BRIDGE_AUTH_AUDIENCE: 'api://wa.firm.example/abc, 5f3c0d9e-1111-4222-8333-444455556666' }, undefined);
    expect(config.auth).toEqual({
      issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
      jwksUrl: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
      audience: ['api://wa.firm.example/abc', '5f3c0d9e-1111-4222-8333-444455556666'],
    });
  });

  it('takes issuer and key set overrides', () => {
    const config = loadConfig(
      { ...base, WA_BRIDGE_AUTH_ISSUER: 'https://sts.windows.net/x/', WA_BRIDGE_AUTH_JWKS_URL: 'http://127.0.0.1:9/keys', WA_BRIDGE_AUTH_AUDIENCE: 'api://a' },
      undefined,
    );
    expect(config.auth).toMatchObject({ issuer: 'https://sts.windows.net/x/', jwksUrl: 'http://127.0.0.1:9/keys' });
  });

  it('leaves sign-in off when nothing is set', () => {
    expect(loadConfig(base, undefined).auth).toBeUndefined();
  });

  it('names each missing or half-given setting on its own line', () => {
    const error = (() => {
      try {
        loadConfig({ ...base, WA_BRIDGE_AUTH_TENANT_ID: tenant, WA_BRIDGE_AUTH_CLIENT_ID: 'client' }, undefined);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as Error).message.split('\n');
    expect(lines.some((l) => l.startsWith('WA_BRIDGE_AUTH_AUDIENCE:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('WA_BRIDGE_AUTH_CLIENT_SECRET:'))).toBe(true);
  });

  it('turns on Graph lookups only with tenant, client id and secret', () => {
    const config = loadConfig({ ...base, WA_BRIDGE_AUTH_TENANT_ID: tenant, WA_BRIDGE_AUTH_AUDIENCE: 'api://a', WA_BRIDGE_AUTH_CLIENT_ID: 'client', WA_BRIDGE_AUTH_CLIENT_SECRET: 'secret' }, undefined);
    expect(config.auth?.graph).toEqual({ tenantId: tenant, clientId: 'client', clientSecret: 'secret', graphBaseUrl: 'https://graph.microsoft.com', authorityHost: 'https://login.microsoftonline.com' });
  });
});
