import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '@wa-bridge/shared/api/client';
import { runRetention } from '../../bridge-server/src/archive/retention.js';
import { SqlAuditTrail } from '../../bridge-server/src/store/audit.js';
import { placeHold, releaseHold } from '../../bridge-server/src/store/retention.js';
import { startBridgeWorld, type BridgeWorld } from '../support/bridge.js';
import { axeViolations, frameOf } from '../support/a11y.js';
import { unzip } from '../support/zip.js';
import { openPersonalTab } from '../support/teams-host.js';
import { startTokenIssuer, type TestUser, type TokenIssuer } from '../support/token-issuer.js';
import { artifactsDir, conversationOf, startBrowserFor } from '../support/ui-world.js';

/**
 * Retention and legal holds in the Teams tab, in headless Chromium at side-panel width, against a
 * bridge configured like a firm's: the matter's people see how long its records are kept and
 * whether a hold is in force; a compliance officer places a hold on the matter and on one
 * conversation, and releases one from the Retention view, each time saying why; there they also
 * see what retention deletes soon (and hold it) and download the certificates of what it deleted.
 */

const solicitor: TestUser = { upn: 'sam.harper@firm.test', name: 'Sam Harper', roles: ['Solicitor'] };
const officer: TestUser = { upn: 'olga.compliance@firm.test', name: 'Olga Berg', roles: ['ComplianceOfficer'] };
const admin: TestUser = { upn: 'it.admin@firm.test', name: 'IT Admin', roles: ['Admin'] };

// Outside the sandbox the tab first asks for the demo sign-in, which answers 404; the refused number answers 400.
const expectedProblems = new Set(['404 (Not Found)', '400 (Bad Request)'].map((status) => `console: Failed to load resource: the server responded with a status of ${status}`));

describe('Teams tab: retention and legal holds', () => {
  let issuer: TokenIssuer;
  let world: BridgeWorld;
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  let officerApi: ApiClient;
  let officerPage: Page;
  let officerTab: FrameLocator;
  let conversationId = 0;
  // The solicitor's view of the matter, open from the first test to the third: what it shows of holds came over the live stream.
  let solicitorPage: Page;
  let solicitorRetention: Locator;

  const openTab = async (user: TestUser) => openPersonalTab(context, world.bridge.url, await issuer.sign(user));
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifactsDir, name), animations: 'disabled' });
  // A closing dialog keeps the page behind it hidden from screen readers until its animation ends.
  const dialogGone = (tab: FrameLocator) => expect.poll(() => tab.locator('#root').getAttribute('aria-hidden'), { timeout: 5_000 }).toBeNull();
  const openMatter = async (tab: FrameLocator) => {
    await tab.getByRole('button', { name: /HOL-2026-0007/ }).click({ timeout: 10_000 });
    const retention = tab.getByRole('group', { name: 'Retention' });
    await retention.locator('.retention-period').waitFor({ timeout: 10_000 });
    return retention;
  };

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    world = await startBridgeWorld({ smtpUrl: 'smtp://127.0.0.1:9', mailbox: 'solicitor@firm.test', env: { ...issuer.env, WA_BRIDGE_RETENTION_YEARS: 'default:6,conveyancing:15' } });
    ({ browser, context, problems } = await startBrowserFor(world.bridge.url));
    const adminToken = await issuer.sign(admin);
    const adminApi = createApiClient({ baseUrl: world.bridge.url, getToken: async () => adminToken });
    const officerToken = await issuer.sign(officer);
    officerApi = createApiClient({ baseUrl: world.bridge.url, getToken: async () => officerToken });
    const matter = await adminApi.createMatter({ reference: 'HOL-2026-0007', title: 'Holt: purchase of 3 Quay St', matterType: 'Conveyancing', members: [solicitor.upn] });
    expect((await world.simulator.postWebhook(world.simulator.inboundMessage({ from: '447700900321', name: 'Nora Holt', type: 'text', body: 'The seller says the survey was wrong.' }))).status).toBe(200);
    conversationId = (await conversationOf(adminApi, '447700900321')).id;
    await adminApi.link(conversationId, matter.id);
    ({ page: officerPage, tab: officerTab } = await openTab(officer));
    // Buttons fade between states (busy, then ready again); the contrast checks read the state they settle in.
    await officerPage.emulateMedia({ reducedMotion: 'reduce' });
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await issuer?.stop();
  });

  it("shows the matter's people how long its records are kept, without the compliance officer's buttons", async () => {
    const { page, tab } = await openTab(solicitor);
    solicitorPage = page;
    solicitorRetention = await openMatter(tab);
    expect(await solicitorRetention.locator('.retention-period').innerText()).toBe('Kept 15 years after the matter closes (the period for Conveyancing); the period starts when it is closed.');
    expect(await solicitorRetention.locator('.legal-hold').count()).toBe(0);
    expect(await tab.getByRole('button', { name: 'Place legal hold' }).count()).toBe(0);
    expect(await tab.getByRole('tab', { name: 'Retention' }).count()).toBe(0);
  });

  it('asks the compliance officer why before placing a hold on the matter, then shows it', async () => {
    await officerPage.bringToFront();
    const retention = await openMatter(officerTab);
    await retention.getByRole('button', { name: 'Place legal hold' }).click();
    const dialog = officerTab.getByRole('dialog', { name: 'Place a legal hold on matter HOL-2026-0007?' });
    await dialog.waitFor({ timeout: 5_000 });
    await dialog.getByRole('button', { name: 'Place hold' }).click();
    const message = dialog.locator('.fui-Field__validationMessage');
    await message.waitFor({ timeout: 5_000 });
    expect(await message.innerText()).toBe('Say why.');
    expect((await officerApi.listHolds({ all: 'true' })).items).toEqual([]);
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);

    await dialog.getByRole('textbox', { name: /Reason/ }).fill('Seller threatens a claim over the survey (letter of 28 Nov)');
    await dialog.getByRole('button', { name: 'Place hold' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    await dialogGone(officerTab);
    const holds = retention.getByRole('list', { name: 'Legal holds in force' });
    await holds.waitFor({ timeout: 10_000 });
    expect(await holds.locator('.legal-hold').innerText()).toContain('Seller threatens a claim over the survey (letter of 28 Nov)');
    expect(await holds.locator('.legal-hold').innerText()).toContain(`by ${officer.upn}`);
    const stored = (await officerApi.listHolds()).items;
    expect(stored).toEqual([expect.objectContaining({ matter: expect.objectContaining({ reference: 'HOL-2026-0007' }), reason: 'Seller threatens a claim over the survey (letter of 28 Nov)', placedBy: officer.upn })]);
    // A hold another officer places on the matter, and releases, shows here as it happens.
    const second = await officerApi.placeHold({ matterId: stored[0]!.matter!.id, reason: 'Insurer asked us to keep everything' });
    await expect.poll(() => holds.locator(`[data-hold="${second.id}"]`).count(), { timeout: 10_000 }).toBe(1);
    await officerApi.releaseHold(second.id, { reason: 'Same claim as the hold above' });
    await expect.poll(() => holds.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(1);
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);
    await shot(officerPage, 'teams-matter-legal-hold.png');
  });

  it("shows the solicitor that the matter is on hold, and why, with nothing to release, in the matter's view open since before", async () => {
    await solicitorPage.bringToFront();
    // The officer's hold reached the open view over the live stream, as did the second one's coming and going.
    const holds = solicitorRetention.getByRole('list', { name: 'Legal holds in force' });
    await expect.poll(() => holds.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(1);
    expect(await holds.locator('.legal-hold').innerText()).toContain('Seller threatens a claim over the survey');
    expect(await solicitorRetention.innerText()).toContain('While a hold is in force, nothing of this matter is deleted');
    expect(await solicitorRetention.getByRole('button').count()).toBe(0);

    // A hold placed and released with the CLI (another process writing to the store) shows and goes too.
    const matterId = (await officerApi.listHolds()).items[0]!.matter!.id;
    const fromCli = await placeHold(world.bridge.store.db, { matterId, reason: 'Kept for the insurer (ticket 4411)', placedBy: 'cli:records', at: Date.now() });
    await expect.poll(() => holds.locator(`[data-hold="${fromCli}"]`).count(), { timeout: 10_000 }).toBe(1);
    await releaseHold(world.bridge.store.db, fromCli, { by: 'cli:records', reason: 'Insurer has its copy', at: Date.now() });
    await expect.poll(() => holds.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(1);
    await solicitorPage.close();
  });

  it('shows the hold in the conversation to everyone reading it, and a hold placed on the conversation reaches an open view at once', async () => {
    // The solicitor reads Nora's conversation: the hold on its matter shows above the messages, with nothing to release.
    const { page: solicitorPage, tab: solicitorTab } = await openTab(solicitor);
    await solicitorTab.getByRole('button', { name: /HOL-2026-0007/ }).click({ timeout: 10_000 });
    await solicitorTab.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Nora Holt/ }).click({ timeout: 10_000 });
    const seenBySolicitor = solicitorTab.getByRole('region', { name: 'Retention' });
    await seenBySolicitor.locator('.legal-hold').waitFor({ timeout: 10_000 });
    expect(await seenBySolicitor.locator('.retention-period').innerText()).toBe('Kept, whatever its age, while a legal hold is in force.');
    expect(await seenBySolicitor.locator('.legal-hold').innerText()).toContain(`Seller threatens a claim over the survey (letter of 28 Nov)\nOn matter HOL-2026-0007, placed`);
    expect(await seenBySolicitor.getByRole('button').count()).toBe(0);

    // The solicitor's page stays open behind: a page in the background gets few animation frames, and clicks wait on them.
    await officerPage.bringToFront();
    await officerTab.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Nora Holt/ }).click({ timeout: 10_000 });
    const strip = officerTab.getByRole('region', { name: 'Retention' });
    await strip.getByRole('button', { name: 'Place legal hold on this conversation' }).click({ timeout: 10_000 });
    const dialog = officerTab.getByRole('dialog', { name: 'Place a legal hold on this conversation?' });
    await dialog.getByRole('textbox', { name: /Reason/ }).fill('Police request about this client');
    await dialog.getByRole('button', { name: 'Place hold' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    await dialogGone(officerTab);
    const onConversation = (await officerApi.listHolds()).items.find((hold) => hold.conversation?.id === conversationId);
    expect(onConversation).toMatchObject({ reason: 'Police request about this client', matter: null });
    await expect.poll(() => strip.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(2);
    expect(await strip.locator(`[data-hold="${onConversation!.id}"]`).innerText()).toContain('Police request about this client\nOn this conversation, placed');
    // The compliance officer may release either hold from here; the dialog names what it covers.
    expect(await strip.getByRole('button', { name: /^Release hold / }).count()).toBe(2);
    // The solicitor's open view was told over the live stream: no reload.
    await expect.poll(() => seenBySolicitor.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(2);
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);
    await shot(officerPage, 'teams-conversation-legal-hold.png');
    await solicitorPage.close();
  });

  it('lists the holds in force and releases one, with a reason, keeping it on record as released', async () => {
    const [onMatter, onConversation] = (await officerApi.listHolds()).items;
    await officerTab.getByRole('tab', { name: 'Retention' }).click();
    await officerTab.getByRole('tab', { name: 'Legal holds' }).waitFor({ timeout: 5_000 });
    const inForce = officerTab.getByRole('list', { name: 'Legal holds in force' });
    await inForce.waitFor({ timeout: 10_000 });
    expect(await inForce.locator('.legal-hold').count()).toBe(2);
    const conversationHold = await inForce.locator(`[data-hold="${onConversation!.id}"]`).innerText();
    expect(conversationHold).toContain(`Hold ${onConversation!.id} on the conversation with \u2068Nora Holt\u2069 +447700900321`);
    expect(conversationHold).toContain(`Chat ID (X-WhatsApp-Chat-Id) ${onConversation!.conversation!.chatId}`);
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);

    await inForce.getByRole('button', { name: `Release hold ${onMatter!.id} on matter HOL-2026-0007` }).click();
    const dialog = officerTab.getByRole('dialog', { name: 'Release the legal hold on matter HOL-2026-0007?' });
    await dialog.getByRole('textbox', { name: /Reason/ }).fill('Seller withdrew the claim');
    await dialog.getByRole('button', { name: 'Release hold' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    await dialogGone(officerTab);
    await expect.poll(() => inForce.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(1);
    expect((await officerApi.listHolds({ all: 'true' })).items[0]).toMatchObject({ id: onMatter!.id, releasedBy: officer.upn, releaseReason: 'Seller withdrew the claim' });

    // Another officer places a hold and releases it again: the list follows over the live stream, without a reload.
    const elsewhere = await officerApi.placeHold({ matterId: onMatter!.matter!.id, reason: 'Placed from another desk' });
    await expect.poll(() => inForce.locator(`[data-hold="${elsewhere.id}"]`).count(), { timeout: 10_000 }).toBe(1);
    await officerApi.releaseHold(elsewhere.id, { reason: 'Placed by mistake' });
    await expect.poll(() => inForce.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(1);

    await officerTab.getByRole('switch', { name: 'Show released holds' }).click();
    const all = officerTab.getByRole('list', { name: 'Legal holds' });
    await expect.poll(() => all.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(5);
    const released = all.locator(`[data-hold="${onMatter!.id}"]`);
    expect(await released.innerText()).toMatch(new RegExp(`released\\b[\\s\\S]*released .* by ${officer.upn.replace('.', '\\.')}: Seller withdrew the claim`));
    expect(await released.getByRole('button').count()).toBe(0);
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);
    await shot(officerPage, 'teams-legal-holds.png');
  });

  it('shows what retention deletes soon, where a hold can still keep it, and the certificates of what it deleted', async () => {
    const yearMs = 365.25 * 24 * 3600_000;
    // Two clients last heard from seven years ago, on no matter: past the default six years.
    for (const [phone, name] of [
      ['447700900401', 'Ada Stale'],
      ['447700900402', 'Ben Stale'],
    ] as const) {
      const envelope = world.simulator.inboundMessage({ from: phone, name, type: 'text', body: 'An old enquiry.', timestamp: new Date(Date.now() - 7 * yearMs) });
      expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
    }
    const ada = await conversationOf(officerApi, '447700900401');
    const ben = await conversationOf(officerApi, '447700900402');

    await officerTab.getByRole('tab', { name: 'Due for deletion' }).click();
    const due = officerTab.getByRole('list', { name: 'Conversations due for deletion' });
    await expect.poll(() => due.locator('.due-conversation').count(), { timeout: 10_000 }).toBe(2);
    const adaRow = due.locator(`[data-conversation="${ada.id}"]`);
    expect(await adaRow.innerText()).toContain('due now');
    expect(await adaRow.innerText()).toContain('default: 6 years after the last activity (never linked to a matter)');
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);
    await shot(officerPage, 'teams-retention-due.png');

    // A hold placed from the list keeps Ada's conversation: it leaves the list.
    await adaRow.getByRole('button', { name: 'Place legal hold' }).click();
    const dialog = officerTab.getByRole('dialog', { name: 'Place a legal hold on the conversation with \u2068Ada Stale\u2069 +447700900401?' });
    await dialog.getByRole('textbox', { name: /Reason/ }).fill('Complaint to the ombudsman pending');
    await dialog.getByRole('button', { name: 'Place hold' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    await dialogGone(officerTab);
    await expect.poll(() => due.locator('.due-conversation').count(), { timeout: 10_000 }).toBe(1);
    expect(await due.locator(`[data-conversation="${ben.id}"]`).count()).toBe(1);

    // The daily run deletes Ben's alone; its certificate is listed and downloads as stored.
    const db = world.bridge.store.db;
    const run = await runRetention({ db, removeBlob: async () => undefined, audit: new SqlAuditTrail(db), actor: { actor: 'retention-schedule', source: 'test' }, now: Date.now() }, { defaultYears: 6, byMatterType: { conveyancing: 15 } }, false);
    expect(run.outcomes.filter((outcome) => outcome.action === 'deleted').map((outcome) => outcome.chatId)).toEqual([ben.chatId]);
    await officerTab.getByRole('tab', { name: 'Deleted' }).click();
    const certificates = officerTab.getByRole('list', { name: 'Deletion certificates' });
    const certificate = certificates.locator('.deletion-certificate');
    await certificate.waitFor({ timeout: 10_000 });
    const [listed] = (await officerApi.deletionCertificates()).items;
    expect(await certificate.innerText()).toContain(`Conversation ${ben.chatId}`);
    expect(await certificate.innerText()).toContain(`SHA-256 ${listed!.sha256}`);
    const [download] = await Promise.all([officerPage.waitForEvent('download'), certificate.getByRole('button', { name: `Download certificate ${listed!.id} (conversation ${ben.chatId})` }).click()]);
    expect(download.suggestedFilename()).toBe(`deletion-certificate-${listed!.id}.json`);
    const bytes = await readFile((await download.path())!);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(listed!.sha256);
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);
    await shot(officerPage, 'teams-retention-deleted.png');
  });

  it("exports everything held about one person for a subject access request, saying what is wrong with a number first", async () => {
    await officerTab.getByRole('tab', { name: 'Subject access' }).click();
    const form = officerTab.getByRole('form', { name: 'Subject access export' });
    const number = form.getByRole('textbox', { name: /WhatsApp number/ });
    await number.fill('07700 900321');
    await form.getByRole('button', { name: 'Build and save bundle' }).click();
    const message = form.locator('.fui-Field__validationMessage').first();
    await message.waitFor({ timeout: 10_000 });
    expect(await message.innerText()).toBe('a national number: give it with its country code, such as +44 7700 900123 for 07700 900123');
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);

    await number.fill('+44 7700 900321');
    const [download] = await Promise.all([officerPage.waitForEvent('download'), form.getByRole('button', { name: 'Build and save bundle' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^subject-access-447700900321-\d{4}-\d{2}-\d{2}\.zip$/);
    const bytes = await readFile((await download.path())!);
    const shown = form.locator('.export-sha256');
    await shown.waitFor({ timeout: 10_000 });
    expect(await shown.innerText()).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);
    await shot(officerPage, 'teams-subject-access.png');

    // A username user whose number the firm never sees is found by their WhatsApp user id.
    const userId = 'GB.1502576394655843';
    expect((await world.simulator.postWebhook(world.simulator.inboundMessage({ from: '', userId, username: 'quay.tenant', name: 'Quay Tenant', type: 'text', body: 'Please send me what you hold about me.' }))).status).toBe(200);
    await form.getByRole('radio', { name: 'WhatsApp user id' }).check();
    const id = form.getByRole('textbox', { name: /WhatsApp user id/ });
    await id.fill('GB.0000000000000000');
    await form.getByRole('button', { name: 'Build and save bundle' }).click();
    const notFound = form.locator('.fui-Field__validationMessage').first();
    await notFound.waitFor({ timeout: 10_000 });
    expect(await notFound.innerText()).toBe('No conversation with WhatsApp user GB.0000000000000000 is in the archive.');
    await id.fill(userId);
    const [byId] = await Promise.all([officerPage.waitForEvent('download'), form.getByRole('button', { name: 'Build and save bundle' }).click()]);
    expect(byId.suggestedFilename()).toMatch(/^subject-access-GB\.1502576394655843-\d{4}-\d{2}-\d{2}\.zip$/);
    const transcript = (await unzip((await byId.path())!)).get('transcript.html')!.toString('utf8');
    expect(transcript).toContain('Please send me what you hold about me.');
    expect(transcript).not.toContain('The seller says the survey was wrong.');
    expect((await officerApi.audit({ action: 'gdpr.access' })).items.map((entry) => entry.target).sort()).toEqual(['phone:447700900321', `whatsapp-user:${userId}`]);
    expect(await axeViolations(await frameOf(officerPage.locator('#tab')))).toEqual([]);
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(problems.filter((problem) => !expectedProblems.has(problem))).toEqual([]);
  });
});
