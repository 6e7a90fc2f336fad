import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '@wa-bridge/shared/api/client';
import { startBridgeWorld, type BridgeWorld } from '../support/bridge.js';
import { naaHost, type NaaHost } from '../support/naa-host.js';
import { mirroredHeaders, officeStub } from '../support/office-stub.js';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.js';
import { buildAddinWith } from '../support/ui-build.js';
import { artifactsDir, conversationOf, startBrowserFor } from '../support/ui-world.js';

/**
 * The task pane built for nested app authentication (client id and API scope given at build
 * time, as the README says), in an Outlook that supports it: MSAL browser asks the host's broker
 * for the API token over window.nestedAppAuthBridge, and only when that fails does the pane fall
 * back to Office SSO. The broker is the test's (naa-host.ts), handing out tokens of a local issuer
 * the bridge trusts; everything behind the host boundary is real.
 */

const clientId = '0b5d3c51-6a4f-4c7e-9d1e-7d0c1f2a3b4c';

describe('signing in to the task pane by nested app authentication', () => {
  let issuer: TokenIssuer;
  let world: BridgeWorld;
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  let outDir: string;
  let chatId: string;
  let apiScope: string;
  const tom = { upn: 'tom.baker@firm.test', name: 'Tom Baker', roles: ['Solicitor' as const] };
  /** The bearer tokens the API was called with, per page. */
  const bearers = new Map<Page, string[]>();

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    apiScope = `${issuer.audience}/access_as_user`;
    outDir = mkdtempSync(path.join(tmpdir(), 'wab-addin-naa-'));
    buildAddinWith(outDir, { clientId, apiScope });
    // Nothing listens on port 9: relayed mail waits in the outbox, which these tests do not need.
    world = await startBridgeWorld({ smtpUrl: 'smtp://127.0.0.1:9', mailbox: 'solicitor@firm.test', env: issuer.env });
    ({ browser, context, problems } = await startBrowserFor(world.bridge.url));
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (!url.pathname.startsWith('/api/')) return;
      const token = request.headers().authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('access_token');
      const page = request.frame().page();
      if (token) bearers.set(page, [...(bearers.get(page) ?? []), token]);
    });

    const adminToken = await issuer.sign({ upn: 'it.admin@firm.test', roles: ['Admin'] });
    const admin = createApiClient({ baseUrl: world.bridge.url, getToken: async () => adminToken });
    const envelope = world.simulator.inboundMessage({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'Is the exchange still on for Friday?' });
    expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
    const conversation = await conversationOf(admin, '447700900123');
    chatId = conversation.chatId;
    const matter = await admin.createMatter({ reference: 'SMI-2026-0042', title: 'Smith: purchase of 4 Elm Road', members: [tom.upn] });
    await admin.link(conversation.id, matter.id);
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await issuer?.stop();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  /** Opens the pane from the NAA build, in an Outlook with nested app authentication whose broker is `host`. */
  async function openPane(host: NaaHost, ssoToken: string): Promise<Page> {
    const page = await context.newPage();
    await page.exposeFunction('__naaHost', (message: string) => host.answer(message));
    await page.route(`${world.bridge.url}/addin/**`, (route) => {
      const relative = decodeURIComponent(new URL(route.request().url()).pathname).replace(/^\/addin\/?/, '') || 'index.html';
      const file = path.join(outDir, relative);
      if (relative.startsWith('office-js/') || !file.startsWith(outDir) || !existsSync(file)) return route.fallback();
      const type = file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream';
      return route.fulfill({ contentType: type, body: readFileSync(file) });
    });
    const subject = 'WhatsApp · Jane Smith (+44 7700 900123)';
    await page.route('**/addin/office-js/office.js', (route) => route.fulfill({ contentType: 'text/javascript', body: officeStub({ subject, headers: mirroredHeaders(chatId, subject) }, { ssoToken, nestedAppAuth: true }) }));
    await page.goto(`${world.bridge.url}/addin/index.html`);
    return page;
  }

  const ssoCalls = (page: Page) => page.evaluate(() => (window as unknown as { __office: { ssoCalls: number } }).__office.ssoCalls);

  it('takes the API token from the host broker, for the build’s client id and API scope', async () => {
    const host = naaHost({ issuer, user: tom, clientId, apiScope });
    const ssoToken = await issuer.sign({ ...tom, name: 'Tom Baker (Office SSO)' });
    const page = await openPane(host, ssoToken);
    const pane = page.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    await pane.waitFor({ timeout: 20_000 });
    expect(await pane.locator('li.bubble.incoming .text').allInnerTexts()).toEqual(['Is the exchange still on for Friday?']);

    expect(host.requests.map((request) => request.method).slice(0, 2)).toEqual(['GetInitContext', 'GetToken']);
    const tokenRequest = host.requests.find((request) => request.method === 'GetToken')!;
    expect(tokenRequest.tokenParams!.clientId).toBe(clientId);
    expect(tokenRequest.tokenParams!.scope.split(' ')).toContain(apiScope);
    expect(tokenRequest.clientLibrary).toMatch(/msal/i);
    expect(host.requests.some((request) => request.method === 'GetTokenPopup')).toBe(false);

    // Every API call carried a token the broker handed out; Office SSO was never asked.
    const used = bearers.get(page) ?? [];
    expect(used.length).toBeGreaterThan(0);
    expect(used.every((token) => host.issued.includes(token))).toBe(true);
    expect(await ssoCalls(page)).toBe(0);
    await page.screenshot({ path: path.join(artifactsDir, 'addin-nested-auth.png') });
    await page.close();
  });

  it('asks the broker interactively when it needs the user, and falls back to Office SSO when that fails too', async () => {
    const host = naaHost({
      issuer,
      user: tom,
      clientId,
      apiScope,
      fail: {
        GetToken: { status: 'USER_INTERACTION_REQUIRED', code: 'interaction_required', description: 'AADSTS65001: consent required' },
        GetTokenPopup: { status: 'USER_CANCEL', code: 'user_cancelled', description: 'The user closed the sign-in window.' },
      },
    });
    const ssoToken = await issuer.sign(tom);
    const page = await openPane(host, ssoToken);
    await page.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' }).waitFor({ timeout: 20_000 });

    expect(host.requests.map((request) => request.method)).toEqual(['GetInitContext', 'GetToken', 'GetTokenPopup']);
    expect(host.issued).toEqual([]);
    const used = bearers.get(page) ?? [];
    expect(used.length).toBeGreaterThan(0);
    expect(new Set(used)).toEqual(new Set([ssoToken]));
    expect(await ssoCalls(page)).toBeGreaterThan(0);
    await page.close();
  });

  it('ran without script errors or requests leaving the machine', () => {
    // Outside the sandbox the pane first asks for the demo sign-in, which answers 404.
    expect(problems.filter((problem) => problem !== 'console: Failed to load resource: the server responded with a status of 404 (Not Found)')).toEqual([]);
  });
});
