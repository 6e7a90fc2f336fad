import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './load.js';

const base = {
  WA_BRIDGE_MAILBOX: 'whatsapp@firm.example',
  WA_BRIDGE_MAIL_DOMAIN: 'wa.firm.example',
  WA_BRIDGE_CLOUD_API_APP_SECRET: 'app-secret-123',
  WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: 'verify-token-123',
  WA_BRIDGE_CLOUD_API_ACCESS_TOKEN: 'access-token-123',
};
const graph = {
  ...base,
  WA_BRIDGE_MAIL_TRANSPORT: 'graph',
  WA_BRIDGE_GRAPH_MAILBOX: 'wa-bridge@firm.example',
  WA_BRIDGE_GRAPH_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  WA_BRIDGE_GRAPH_CLIENT_ID: 'mail-client-id',
  WA_BRIDGE_GRAPH_CLIENT_SECRET: 'mail-client-secret',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, undefined);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('choosing the mail route', () => {
  it('keeps SMTP as the default route', () => {
    const config = loadConfig({ ...base, WA_BRIDGE_SMTP_URL: 'smtp://mail.firm.example:25' }, undefined);
    expect(config.mail).toEqual({ smtpUrl: 'smtp://mail.firm.example:25', maxConnections: 8, mailbox: 'whatsapp@firm.example', envelopeFrom: 'bridge@wa.firm.example' });
  });

  it('builds the Graph route without any SMTP setting', () => {
    const config = loadConfig(graph, undefined);
    expect(config.sandbox).toBe(false);
    expect(config.mail).toEqual({
      mailbox: 'whatsapp@firm.example',
      envelopeFrom: 'bridge@wa.firm.example',
      graph: {
        sendingMailbox: 'wa-bridge@firm.example',
        tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        clientId: 'mail-client-id',
        clientSecret: 'mail-client-secret',
        graphBaseUrl: 'https://graph.microsoft.com',
        authorityHost: 'https://login.microsoftonline.com',
        maxConcurrent: 4,
      },
    });
  });

  it('takes the tenant from API sign-in when the Graph route names none', () => {
    const { WA_BRIDGE_GRAPH_TENANT_ID: _unused, ...withoutTenant } = graph;
    const config = loadConfig(
      { ...withoutTenant, WA_BRIDGE_AUTH_TENANT_ID: '11111111-2222-4333-8444-555555555555', WA_BRIDGE_AUTH_AUDIENCE: 'api://wa.firm.example/x' },
      undefined,
    );
    expect(config.mail && 'graph' in config.mail ? config.mail.graph.tenantId : undefined).toBe('11111111-2222-4333-8444-555555555555');
  });

  it('names every missing Graph setting on its own line', () => {
    expect(problems({ ...base, WA_BRIDGE_MAIL_TRANSPORT: 'graph' })).toEqual([
      'WA_BRIDGE_GRAPH_MAILBOX: required with WA_BRIDGE_MAIL_TRANSPORT=graph (the mailbox the bridge sends from, e.g. wa-bridge@firm.example)',
      'WA_BRIDGE_GRAPH_TENANT_ID: required with WA_BRIDGE_MAIL_TRANSPORT=graph (the Entra ID tenant of the app registration; or set WA_BRIDGE_AUTH_TENANT_ID)',
      'WA_BRIDGE_GRAPH_CLIENT_ID: required with WA_BRIDGE_MAIL_TRANSPORT=graph (the app registration with the Mail.Send application permission)',
      'WA_BRIDGE_GRAPH_CLIENT_SECRET: required with WA_BRIDGE_MAIL_TRANSPORT=graph (a client secret of that app registration)',
    ]);
  });

  it('does not fall back to the sandbox when only the Graph route is chosen', () => {
    const lines = problems({ WA_BRIDGE_MAIL_TRANSPORT: 'graph' });
    expect(lines).toContain('WA_BRIDGE_MAILBOX: required outside the sandbox (the firm address that receives mirrored mail)');
    expect(lines).toContainEqual(expect.stringMatching(/^WA_BRIDGE_GRAPH_MAILBOX: required/));
    expect(lines).not.toContainEqual(expect.stringMatching(/^WA_BRIDGE_SMTP_URL/));
  });

  it('refuses an unknown route, a bad mailbox and more than four requests at once, each by its variable', () => {
    expect(problems({ ...graph, WA_BRIDGE_MAIL_TRANSPORT: 'ews' })).toEqual(['WA_BRIDGE_MAIL_TRANSPORT: expected smtp or graph, got "ews"']);
    const lines = problems({ ...graph, WA_BRIDGE_GRAPH_MAILBOX: 'not a mailbox', WA_BRIDGE_GRAPH_MAX_CONCURRENT: '8' });
    expect(lines).toEqual([
      'WA_BRIDGE_GRAPH_MAILBOX: expected an email address such as whatsapp@firm.example',
      'WA_BRIDGE_GRAPH_MAX_CONCURRENT: expected a whole number from 1 to 4 (Outlook runs no more than 4 requests of one app at once), got "8"',
    ]);
  });

  it('never echoes the client secret in a problem', () => {
    const lines = problems({ ...graph, WA_BRIDGE_GRAPH_MAILBOX: '' , WA_BRIDGE_GRAPH_TENANT_ID: 'not a tenant!' });
    expect(lines.join('\n')).not.toContain('mail-client-secret');
    expect(lines).toContainEqual(expect.stringMatching(/^WA_BRIDGE_GRAPH_TENANT_ID: expected the directory \(tenant\) id/));
  });
});
