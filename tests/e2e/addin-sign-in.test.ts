import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '@wa-bridge/shared/api/client';
import { axeViolations } from '../support/a11y.js';
import { startBridgeWorld, type BridgeWorld } from '../support/bridge.js';
import { mirroredHeaders, officeStub } from '../support/office-stub.js';
import { teamsHostPage } from '../support/teams-host.js';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.js';
import { artifactsDir, conversationOf, startBrowserFor } from '../support/ui-world.js';

/**
 * The front ends outside the sandbox: no demo sign-in, so the task pane takes its token from
 * Office SSO and the Teams tab from Teams SSO (both host stubs hand out tokens of a local issuer
 * the bridge trusts through the same validation code as Entra ID's), and the API's roles decide
 * what each person sees.
 */

describe('signing in through Outlook and Teams', () => {
  let issuer: TokenIssuer;
  let world: BridgeWorld;
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  const refusals = new Set<string>();
  let admin: ApiClient;
  let chatId: string;
  const jane = { phone: '447700900123', name: 'Jane Smith' };

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    // Nothing listens on port 9: relayed mail waits in the outbox, which these tests do not need.
    world = await startBridgeWorld({ smtpUrl: 'smtp://127.0.0.1:9', mailbox: 'solicitor@firm.test', env: issuer.env });
    ({ browser, context, problems } = await startBrowserFor(world.bridge.url));
    context.on('response', (response) => {
      if (response.status() >= 400) refusals.add(`${response.status()} ${new URL(response.url()).pathname.replace(/[a-z2-7]{26}$/, ':chatId')}`);
    });
    const adminToken = await issuer.sign({ upn: 'it.admin@firm.test', roles: ['Admin'] });
    admin = createApiClient({ baseUrl: world.bridge.url, getToken: async () => adminToken });

    const envelope = world.simulator.inboundMessage({ from: jane.phone, name: jane.name, type: 'text', body: 'Is the exchange still on for Friday?' });
    expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
    const conversation = await conversationOf(admin, jane.phone);
    chatId = conversation.chatId;
    const matter = await admin.createMatter({ reference: 'SMI-2026-0042', title: 'Smith: purchase of 4 Elm Road', members: ['tom.baker@firm.test', 'carol.case@firm.test'] });
    await admin.link(conversation.id, matter.id);
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await issuer?.stop();
  });

  async function openPane(token: string, bodyBackgroundColor?: string) {
    const page = await context.newPage();
    const subject = 'WhatsApp · Jane Smith (+44 7700 900123)';
    await page.route('**/addin/office-js/office.js', (route) => route.fulfill({ contentType: 'text/javascript', body: officeStub({ subject, headers: mirroredHeaders(chatId, subject) }, { ssoToken: token, ...(bodyBackgroundColor ? { bodyBackgroundColor } : {}) }) }));
    await page.goto(`${world.bridge.url}/addin/index.html`);
    return page;
  }

  it("shows a solicitor on the matter the conversation, signed in by Office SSO and not as a demo user", async () => {
    const page = await openPane(await issuer.sign({ upn: 'tom.baker@firm.test', name: 'Tom Baker', roles: ['Solicitor'] }));
    const pane = page.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    await pane.waitFor({ timeout: 20_000 });
    expect(await pane.locator('li.bubble.incoming .text').allInnerTexts()).toEqual(['Is the exchange still on for Friday?']);
    expect(await page.getByText('Sandbox', { exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Send', exact: true }).count()).toBe(1);
    await page.close();
  });

  it('follows a dark Outlook with a dark pane', async () => {
    const page = await openPane(await issuer.sign({ upn: 'tom.baker@firm.test', roles: ['Solicitor'] }), '#1f1f1f');
    await page.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' }).waitFor({ timeout: 20_000 });
    const background = await page.locator('.fui-FluentProvider').first().evaluate((element) => getComputedStyle(element).backgroundColor);
    const [r, g, b] = background.match(/\d+/g)!.map(Number) as [number, number, number];
    expect((0.2126 * r + 0.7152 * g + 0.0722 * b) / 255).toBeLessThan(0.25);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(artifactsDir, 'addin-dark.png') });
    await page.close();
  });

  it('tells a solicitor who is not on the matter that the conversation is not theirs', async () => {
    const page = await openPane(await issuer.sign({ upn: 'anna.other@firm.test', roles: ['Solicitor'] }));
    await page.getByText('Not yours to see').waitFor({ timeout: 20_000 });
    expect(await page.getByRole('region', { name: /WhatsApp conversation/ }).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });

  it('refuses an expired Office token with a clear message', async () => {
    const page = await openPane(await issuer.sign({ upn: 'tom.baker@firm.test', roles: ['Solicitor'] }, { expiresIn: -600 }));
    await page.getByText('Could not sign in').waitFor({ timeout: 20_000 });
    expect(await page.getByRole('alert').innerText()).toMatch(/Office single sign-on: .+/);
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });

  it('signs a compliance officer into the Teams tab by Teams SSO: audit trail offered, conversations read-only', async () => {
    const token = await issuer.sign({ upn: 'cora.compliance@firm.test', roles: ['ComplianceOfficer'] });
    const page = await context.newPage();
    await page.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath: '/teams/index.html?view=personal', ssoToken: token }) }));
    await page.goto(`${world.bridge.url}/teams-host.html`);
    const tab = page.frameLocator('#tab');
    await tab.getByRole('button', { name: /SMI-2026-0042/ }).click({ timeout: 20_000 });
    expect(await tab.getByRole('tab').allInnerTexts()).toEqual(['Matters', 'Search', 'Audit trail', 'Retention']);
    await tab.getByRole('button', { name: /Jane Smith/ }).click({ timeout: 10_000 });
    await tab.getByText('You can read this conversation but not reply to it.').waitFor({ timeout: 10_000 });
    expect(await tab.getByRole('button', { name: 'Send', exact: true }).count()).toBe(0);
    await page.close();
  });

  it('was refused only where these tests expect it, without script errors or requests leaving the machine', () => {
    // No demo sign-in outside the sandbox (404), Anna's conversation (403), the expired token (401).
    expect([...refusals].sort()).toEqual(['401 /api/me', '403 /api/conversations/by-chat-id/:chatId', '404 /api/sandbox/token']);
    expect(problems.filter((problem) => !problem.startsWith('console: Failed to load resource: the server responded with a status of'))).toEqual([]);
  });
});
