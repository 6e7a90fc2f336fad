import path from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '@wa-bridge/shared/api/client';
import { startBridgeWorld, type BridgeWorld } from '../support/bridge.js';
import { axeViolations, frameOf } from '../support/a11y.js';
import { openPersonalTab } from '../support/teams-host.js';
import { startTokenIssuer, type TestUser, type TokenIssuer } from '../support/token-issuer.js';
import { artifactsDir, conversationOf, startBrowserFor } from '../support/ui-world.js';

/**
 * Matters and triage from the Teams tab, in headless Chromium at side-panel width, against a bridge
 * configured like a firm's (not the sandbox): each person signs in by Teams SSO with a token from
 * the test issuer. A solicitor creates a matter through the form, adds a colleague who then sees
 * it, and closes it; an admin assigns an untriaged conversation, and the assignee then sees it.
 */

const solicitor: TestUser = { upn: 'sam.harper@firm.test', name: 'Sam Harper', roles: ['Solicitor'] };
const caseHandler: TestUser = { upn: 'casey.hale@firm.test', name: 'Casey Hale', roles: ['CaseHandler'] };
const paralegal: TestUser = { upn: 'pat.lee@firm.test', name: 'Pat Lee', roles: ['CaseHandler'] };
const officer: TestUser = { upn: 'olga.compliance@firm.test', name: 'Olga Berg', roles: ['ComplianceOfficer'] };
const admin: TestUser = { upn: 'it.admin@firm.test', name: 'IT Admin', roles: ['Admin'] };
const assignee: TestUser = { upn: 'priya.shah@firm.test', name: 'Priya Shah', roles: ['Solicitor'] };

// Outside the sandbox the tab first asks for the demo sign-in, which answers 404.
// The refusals these tests provoke on purpose (400, 403, 409) are logged by the browser as well.
const expectedProblems = new Set(
  ['404 (Not Found)', '400 (Bad Request)', '403 (Forbidden)', '409 (Conflict)'].map((status) => `console: Failed to load resource: the server responded with a status of ${status}`),
);

describe('Teams tab: creating, sharing and closing matters; triage', () => {
  let issuer: TokenIssuer;
  let world: BridgeWorld;
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  let adminApi: ApiClient;
  let samTab: FrameLocator;
  let samPage: Page;

  const tokenFor = (user: TestUser) => issuer.sign(user);

  /** The personal tab inside the stand-in Teams host, signed in as `user` by Teams SSO. */
  const openTab = async (user: TestUser) => openPersonalTab(context, world.bridge.url, await tokenFor(user));

  async function clientWrites(phone: string, name: string, text: string): Promise<void> {
    const answer = await world.simulator.postWebhook(world.simulator.inboundMessage({ from: phone, name, type: 'text', body: text }));
    expect(answer.status).toBe(200);
  }

  const fieldMessage = (tab: FrameLocator, label: string) => tab.locator('.fui-Field').filter({ has: tab.getByLabel(label, { exact: false }) }).locator('.fui-Field__validationMessage');
  // Dialogs fade in: finish the animation so the picture shows what a person sees.
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifactsDir, name), animations: 'disabled' });

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    // Nothing listens on port 9: these tests relay no mail.
    world = await startBridgeWorld({ smtpUrl: 'smtp://127.0.0.1:9', mailbox: 'solicitor@firm.test', env: issuer.env });
    ({ browser, context, problems } = await startBrowserFor(world.bridge.url));
    const adminToken = await tokenFor(admin);
    adminApi = createApiClient({ baseUrl: world.bridge.url, getToken: async () => adminToken });
    await adminApi.createMatter({ reference: 'TAKEN-2026-0001', title: 'An earlier matter' });
    ({ page: samPage, tab: samTab } = await openTab(solicitor));
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await issuer?.stop();
  });

  it("creates a matter through the form, showing the server's refusals beside their fields", async () => {
    await samTab.getByText('No matters to show.').waitFor({ timeout: 10_000 });
    await samTab.getByRole('button', { name: 'New matter' }).click();
    await samTab.getByLabel('Reference').fill('HAR 2026/0101!');
    await samTab.getByLabel('Title').fill('Harper: purchase of 12 Mill Lane');
    await samTab.getByRole('combobox', { name: 'Matter type' }).click();
    await samTab.getByRole('option', { name: 'Conveyancing' }).click();
    await samTab.getByLabel('Members').fill('casey.hale@firm.test, casey hale');
    await samTab.getByRole('button', { name: 'Create matter' }).click();

    await expect.poll(() => fieldMessage(samTab, 'Reference').innerText(), { timeout: 10_000 }).toBe('letters, digits, dots, dashes, slashes and underscores only');
    expect(await fieldMessage(samTab, 'Members').innerText()).toBe('“casey hale”: expected a sign-in name such as tom@firm.example');
    expect(await fieldMessage(samTab, 'Title').count()).toBe(0);
    expect(await axeViolations(await frameOf(samPage.locator('#tab')))).toEqual([]);
    await shot(samPage, 'teams-new-matter-errors.png');

    await samTab.getByLabel('Reference').fill('TAKEN-2026-0001');
    await samTab.getByLabel('Members').fill('casey.hale@firm.test');
    await samTab.getByRole('button', { name: 'Create matter' }).click();
    await expect.poll(() => fieldMessage(samTab, 'Reference').innerText(), { timeout: 10_000 }).toBe('A matter with reference TAKEN-2026-0001 already exists.');
    expect(await fieldMessage(samTab, 'Members').count()).toBe(0);

    await samTab.getByLabel('Reference').fill('HAR-2026-0101');
    await samTab.getByRole('button', { name: 'Create matter' }).click();
    await samTab.locator('.matter-heading', { hasText: 'HAR-2026-0101' }).waitFor({ timeout: 10_000 });
    const details = samTab.getByRole('region', { name: 'Matter HAR-2026-0101' });
    expect(await details.locator('.matter-state').innerText()).toBe('open');
    expect(await details.locator('.matter-member').evaluateAll((items) => items.map((item) => item.getAttribute('data-upn')))).toEqual(['casey.hale@firm.test', 'sam.harper@firm.test']);
    expect(await details.locator('.matter-member[data-upn="sam.harper@firm.test"]').innerText()).toBe('Sam Harper sam.harper@firm.test (you)');
    expect(await axeViolations(await frameOf(samPage.locator('#tab')))).toEqual([]);
    await shot(samPage, 'teams-new-matter-created.png');

    const [created] = (await adminApi.listMatters({ q: 'HAR-2026-0101' })).items;
    expect(created).toMatchObject({ title: 'Harper: purchase of 12 Mill Lane', matterType: 'Conveyancing', state: 'open', createdBy: solicitor.upn });
    expect(created!.members.map((member) => member.upn).sort()).toEqual([caseHandler.upn, solicitor.upn]);

    await samTab.getByRole('button', { name: '← Matters' }).click();
    await samTab.getByRole('list', { name: 'Matters' }).locator('.matter-ref', { hasText: 'HAR-2026-0101' }).waitFor({ timeout: 10_000 });
    await shot(samPage, 'teams-matters-list.png');
  });

  it('adds a member, who then sees the matter in their own tab', async () => {
    const before = await openTab(paralegal);
    await before.tab.getByText('No matters to show.').waitFor({ timeout: 10_000 });
    expect(await before.tab.getByRole('button', { name: 'New matter' }).count()).toBe(1);
    await before.page.close();

    await samTab.getByRole('button', { name: /HAR-2026-0101/ }).click();
    await samTab.getByRole('button', { name: 'Add member' }).click();
    await samTab.getByLabel('New member').fill('pat lee');
    await samTab.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => fieldMessage(samTab, 'New member').innerText(), { timeout: 10_000 }).toBe('expected a sign-in name such as tom@firm.example');
    await samTab.getByLabel('New member').fill('Pat.Lee@firm.test');
    await samTab.getByRole('button', { name: 'Add', exact: true }).click();
    const details = samTab.getByRole('region', { name: 'Matter HAR-2026-0101' });
    await expect
      .poll(() => details.locator('.matter-member').evaluateAll((items) => items.map((item) => item.getAttribute('data-upn'))), { timeout: 10_000 })
      .toEqual(['casey.hale@firm.test', 'sam.harper@firm.test', 'pat.lee@firm.test']);

    const after = await openTab(paralegal);
    await after.tab.getByRole('list', { name: 'Matters' }).locator('.matter-ref', { hasText: 'HAR-2026-0101' }).waitFor({ timeout: 10_000 });
    await after.tab.getByRole('button', { name: /HAR-2026-0101/ }).click();
    await after.tab.getByRole('region', { name: 'Matter HAR-2026-0101' }).waitFor({ timeout: 10_000 });
    expect(await after.tab.getByRole('button', { name: 'Close matter' }).count()).toBe(1);
    await shot(after.page, 'teams-matter-as-member.png');
    await after.page.close();
  });

  it('shows a compliance officer the matter without the buttons they may not use', async () => {
    const { page, tab } = await openTab(officer);
    await tab.getByRole('button', { name: /HAR-2026-0101/ }).click({ timeout: 10_000 });
    const details = tab.getByRole('region', { name: 'Matter HAR-2026-0101' });
    await details.locator('.matter-state').waitFor({ timeout: 10_000 });
    expect(await tab.getByRole('tab', { name: 'Audit trail' }).count()).toBe(1);
    expect(await tab.getByRole('button', { name: 'Add member' }).count()).toBe(0);
    expect(await tab.getByRole('button', { name: 'Close matter' }).count()).toBe(0);
    await tab.getByRole('button', { name: '← Matters' }).click();
    expect(await tab.getByRole('button', { name: 'New matter' }).count()).toBe(0);
    await page.close();
  });

  it("says clearly that closing was refused when the user's role was withdrawn while the tab was open", async () => {
    const { page, tab } = await openTab(paralegal);
    await tab.getByRole('button', { name: /HAR-2026-0101/ }).click({ timeout: 10_000 });
    await tab.getByRole('button', { name: 'Close matter' }).waitFor({ timeout: 10_000 });
    // Entra ID now gives Pat only the compliance role: reading is still allowed, closing is not.
    const withdrawn = await tokenFor({ ...paralegal, roles: ['ComplianceOfficer'] });
    await page.evaluate((token) => (window as unknown as { __teams: { setSsoToken(token: string): void } }).__teams.setSsoToken(token), withdrawn);
    await tab.getByRole('button', { name: 'Close matter' }).click();
    await tab.getByRole('dialog').getByRole('button', { name: 'Close matter' }).click();
    const alert = tab.getByRole('alert').filter({ hasText: 'Not allowed' });
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.innerText()).toContain('Closing matter HAR-2026-0101 needs a place on it (Solicitor or CaseHandler) or the Admin role.');
    expect(await tab.getByRole('region', { name: 'Matter HAR-2026-0101' }).locator('.matter-state').innerText()).toBe('open');
    expect((await adminApi.listMatters({ q: 'HAR-2026-0101' })).items[0]!.state).toBe('open');
    await shot(page, 'teams-matter-close-refused.png');
    await page.close();
  });

  it('closes the matter after a confirmation that retention counts from closure', async () => {
    await samTab.getByRole('button', { name: 'Close matter' }).click();
    const dialog = samTab.getByRole('dialog', { name: 'Close HAR-2026-0101?' });
    await dialog.waitFor({ timeout: 5_000 });
    expect(await dialog.innerText()).toMatch(/retention period .* starts counting from today, the day it closes/i);
    await shot(samPage, 'teams-matter-close-confirm.png');
    await dialog.getByRole('button', { name: 'Keep it open' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await adminApi.listMatters({ q: 'HAR-2026-0101' })).items[0]!.state).toBe('open');

    await samTab.getByRole('button', { name: 'Close matter' }).click();
    await dialog.getByRole('button', { name: 'Close matter' }).click();
    const details = samTab.getByRole('region', { name: 'Matter HAR-2026-0101' });
    await expect.poll(() => details.locator('.matter-state').innerText(), { timeout: 10_000 }).toBe('closed');
    expect(await samTab.getByRole('button', { name: 'Close matter' }).count()).toBe(0);
    const closed = (await adminApi.listMatters({ state: 'closed', q: 'HAR-2026-0101' })).items[0]!;
    expect(closed.state).toBe('closed');
    expect(closed.closedAt).not.toBeNull();
    await shot(samPage, 'teams-matter-closed.png');

    await samTab.getByRole('button', { name: '← Matters' }).click();
    await samTab.getByText('No matters to show.').waitFor({ timeout: 10_000 });
    await samTab.getByLabel('Matter state').selectOption('closed');
    const row = samTab.getByRole('list', { name: 'Matters' }).getByRole('button', { name: /HAR-2026-0101/ });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.innerText()).toContain('closed');
  });

  it('lets an admin assign an untriaged conversation and link another to a matter; the assignee then sees theirs', async () => {
    await clientWrites('447700900777', 'Dan Ortiz', 'I need advice about my employment contract.');
    await clientWrites('447700900888', 'Eve Moreau', 'Following up on the lease renewal.');
    await conversationOf(adminApi, '447700900777');
    await conversationOf(adminApi, '447700900888');
    const lease = await adminApi.createMatter({ reference: 'MOR-2026-0003', title: 'Moreau: lease renewal', matterType: 'Commercial' });

    const before = await openTab(assignee);
    await before.tab.getByText('No matters to show.').waitFor({ timeout: 10_000 });
    expect(await before.tab.getByRole('button', { name: /Not on a matter yet/ }).count()).toBe(0);
    await before.page.close();

    const { page, tab } = await openTab(admin);
    await tab.getByRole('tab', { name: 'Admin' }).click();
    // The audit trail is the compliance officers' alone: an admin is not offered a view that would refuse them.
    expect(await tab.getByRole('tab', { name: 'Audit trail' }).count()).toBe(0);
    const triage = tab.getByRole('list', { name: 'Conversations to triage' });
    await expect.poll(() => triage.locator('.client-name').allInnerTexts(), { timeout: 10_000 }).toEqual(expect.arrayContaining(['Dan Ortiz', 'Eve Moreau']));
    // A name in Arabic or Hebrew runs in its own direction in the row.
    expect(await triage.locator('.client-name').evaluateAll((names) => names.map((name) => name.getAttribute('dir')))).toEqual(expect.arrayContaining(['auto']));
    expect(await triage.locator('.client-name:not([dir="auto"])').count()).toBe(0);
    await shot(page, 'teams-admin-triage.png');

    await triage.getByRole('button', { name: /Dan Ortiz/ }).click();
    const dan = tab.getByRole('region', { name: 'WhatsApp conversation with Dan Ortiz' });
    await dan.waitFor({ timeout: 10_000 });
    expect(await dan.locator('.conversation-assignee').innerText()).toBe('nobody yet');
    await dan.getByRole('button', { name: 'Assign to a solicitor' }).click();
    await dan.getByLabel('Solicitor’s sign-in name').fill('priya');
    await dan.getByRole('button', { name: 'Assign', exact: true }).click();
    expect(await fieldMessage(tab, 'Solicitor’s sign-in name').innerText()).toBe('Enter a sign-in name such as tom@firm.example.');
    await dan.getByLabel('Solicitor’s sign-in name').fill('Priya.Shah@firm.test');
    await shot(page, 'teams-admin-assign.png');
    await dan.getByRole('button', { name: 'Assign', exact: true }).click();
    await expect.poll(() => dan.locator('.conversation-assignee').innerText(), { timeout: 10_000 }).toBe('priya.shah@firm.test');
    const danSummary = await conversationOf(adminApi, '447700900777');
    expect(danSummary.assignee).toBe('priya.shah@firm.test');

    await tab.getByRole('button', { name: '← Back to admin' }).click();
    await triage.getByRole('button', { name: /Eve Moreau/ }).click();
    const eve = tab.getByRole('region', { name: 'WhatsApp conversation with Eve Moreau' });
    await eve.getByRole('button', { name: 'Link to a matter' }).click({ timeout: 10_000 });
    await eve.getByRole('combobox', { name: 'Link to matter' }).click();
    await eve.getByRole('combobox', { name: 'Link to matter' }).fill('MOR');
    await tab.getByRole('option', { name: /MOR-2026-0003/ }).click();
    await eve.getByRole('button', { name: 'Link', exact: true }).click();
    await expect.poll(() => eve.locator('.matter-ref').allInnerTexts(), { timeout: 10_000 }).toEqual(['MOR-2026-0003']);
    // On a matter, membership decides who sees it: the assignment line goes.
    expect(await eve.getByRole('region', { name: 'Assignment' }).count()).toBe(0);
    expect((await adminApi.listConversations({ matterId: lease.id })).items.map((item) => item.client.name)).toEqual(['Eve Moreau']);

    await tab.getByRole('button', { name: '← Back to admin' }).click();
    await expect.poll(() => triage.locator('.client-name').allInnerTexts(), { timeout: 10_000 }).not.toEqual(expect.arrayContaining(['Dan Ortiz']));
    expect(await triage.locator('.client-name').allInnerTexts()).not.toContain('Eve Moreau');
    await page.close();

    const after = await openTab(assignee);
    await after.tab.getByRole('button', { name: /Not on a matter yet/ }).click({ timeout: 10_000 });
    const mine = after.tab.getByRole('list', { name: 'Conversations without a matter' });
    await expect.poll(() => mine.locator('.client-name').allInnerTexts(), { timeout: 10_000 }).toEqual(['Dan Ortiz']);
    await shot(after.page, 'teams-assigned-list.png');
    await mine.getByRole('button', { name: /Dan Ortiz/ }).click();
    const view = after.tab.getByRole('region', { name: 'WhatsApp conversation with Dan Ortiz' });
    await expect.poll(() => view.locator('li.bubble.incoming .text').allInnerTexts(), { timeout: 10_000 }).toEqual(['I need advice about my employment contract.']);
    expect(await view.locator('.conversation-assignee').innerText()).toBe('you (priya.shah@firm.test)');
    await shot(after.page, 'teams-assigned-conversation.png');
    await after.page.close();
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(problems.filter((problem) => !expectedProblems.has(problem))).toEqual([]);
  });
});
