import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '@wa-bridge/shared/api/client';
import { startBridgeWorld, type BridgeWorld } from '../support/bridge.js';
import { openPersonalTab } from '../support/teams-host.js';
import { startTokenIssuer, type TestUser, type TokenIssuer } from '../support/token-issuer.js';
import { conversationOf, startBrowserFor } from '../support/ui-world.js';

/**
 * The Teams tab's lists while they stay open: a client writing for the first time, a conversation
 * assigned, linked to a matter or taken off it, all show up without the user reading the list again.
 * The changes are made through the API by another person, as they would be from another desk.
 */

const solicitor: TestUser = { upn: 'ruth.ames@firm.test', name: 'Ruth Ames', roles: ['Solicitor'] };
const admin: TestUser = { upn: 'it.admin@firm.test', name: 'IT Admin', roles: ['Admin'] };

// Outside the sandbox the tab first asks for the demo sign-in, which answers 404.
const expectedProblems = new Set([`console: Failed to load resource: the server responded with a status of 404 (Not Found)`]);

describe('Teams tab: lists that follow the bridge', () => {
  let issuer: TokenIssuer;
  let world: BridgeWorld;
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  let adminApi: ApiClient;

  async function clientWrites(phone: string, name: string, text: string): Promise<void> {
    const answer = await world.simulator.postWebhook(world.simulator.inboundMessage({ from: phone, name, type: 'text', body: text }));
    expect(answer.status).toBe(200);
  }

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    // Nothing listens on port 9: these tests relay no mail.
    world = await startBridgeWorld({ smtpUrl: 'smtp://127.0.0.1:9', mailbox: 'solicitor@firm.test', env: issuer.env });
    ({ browser, context, problems } = await startBrowserFor(world.bridge.url));
    const adminToken = await issuer.sign(admin);
    adminApi = createApiClient({ baseUrl: world.bridge.url, getToken: async () => adminToken });
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await issuer?.stop();
  });

  it("adds a new client's conversation to the open triage list, says so, and drops it once assigned", async () => {
    await clientWrites('447700900301', 'Gus Novak', 'Hello, I was given your number by a friend.');
    await conversationOf(adminApi, '447700900301');
    const { page, tab } = await openPersonalTab(context, world.bridge.url, await issuer.sign(admin));
    const notOnMatter = tab.getByRole('button', { name: /Not on a matter yet/ });
    await expect.poll(() => notOnMatter.getByLabel(/conversations$/).innerText(), { timeout: 10_000 }).toBe('1');

    await tab.getByRole('tab', { name: 'Admin' }).click();
    const triage = tab.getByRole('list', { name: 'Conversations to triage' });
    await expect.poll(() => triage.locator('.client-name').allInnerTexts(), { timeout: 10_000 }).toEqual(['Gus Novak']);

    await clientWrites('447700900302', 'Hana Ito', 'Can someone call me about my tenancy?');
    await expect.poll(() => triage.locator('.client-name').allInnerTexts(), { timeout: 10_000 }).toEqual(expect.arrayContaining(['Gus Novak', 'Hana Ito']));
    expect(await tab.locator('.list-arrivals').innerText()).toBe('New conversation: Hana Ito');
    expect(await tab.locator('.list-arrivals').getAttribute('aria-live')).toBe('polite');

    const gus = await conversationOf(adminApi, '447700900301');
    await adminApi.assign(gus.id, { assignee: solicitor.upn });
    await expect.poll(() => triage.locator('.client-name').allInnerTexts(), { timeout: 10_000 }).toEqual(['Hana Ito']);

    // Back on the matters list, the count of conversations on no matter is the current one.
    await tab.getByRole('tab', { name: 'Matters' }).click();
    await expect.poll(() => notOnMatter.getByLabel(/conversations$/).innerText(), { timeout: 10_000 }).toBe('2');
    await clientWrites('447700900303', 'Ivo Petrov', 'Is the office open on Saturdays?');
    await expect.poll(() => notOnMatter.getByLabel(/conversations$/).innerText(), { timeout: 10_000 }).toBe('3');
    await page.close();
  });

  it("keeps a solicitor's matter and its conversations current as conversations are linked and unlinked", async () => {
    const matter = await adminApi.createMatter({ reference: 'AMES-2026-0001', title: 'Novak: tenancy dispute', members: [solicitor.upn] });
    const { page, tab } = await openPersonalTab(context, world.bridge.url, await issuer.sign(solicitor));
    const matterRow = tab.getByRole('list', { name: 'Matters' }).getByRole('button', { name: /AMES-2026-0001/ });
    await expect.poll(() => matterRow.getByLabel(/conversations$/).innerText(), { timeout: 10_000 }).toBe('0');

    const gus = await conversationOf(adminApi, '447700900301');
    const gusLink = await adminApi.link(gus.id, matter.id);
    await expect.poll(() => matterRow.getByLabel(/conversations$/).innerText(), { timeout: 10_000 }).toBe('1');

    await matterRow.click();
    const conversations = tab.getByRole('list', { name: 'Conversations' });
    await expect.poll(() => conversations.locator('.client-name').allInnerTexts(), { timeout: 10_000 }).toEqual(['Gus Novak']);

    const hana = await conversationOf(adminApi, '447700900302');
    await adminApi.link(hana.id, matter.id);
    await expect.poll(async () => (await conversations.locator('.client-name').allInnerTexts()).sort(), { timeout: 10_000 }).toEqual(['Gus Novak', 'Hana Ito']);

    // A message in a conversation on the list moves its last activity without reading the list again.
    const hanaRow = conversations.getByRole('button', { name: /Hana Ito/ });
    const before = await hanaRow.innerText();
    const listReads: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/conversations') listReads.push(request.url());
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await clientWrites('447700900302', 'Hana Ito', 'I found the inventory.');
    await expect.poll(() => hanaRow.innerText(), { timeout: 10_000 }).not.toBe(before);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(listReads).toEqual([]);

    await adminApi.unlink(gus.id, gusLink.id);
    await expect.poll(() => conversations.locator('.client-name').allInnerTexts(), { timeout: 10_000 }).toEqual(['Hana Ito']);
    await page.close();
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(problems.filter((problem) => !expectedProblems.has(problem))).toEqual([]);
  });
});
