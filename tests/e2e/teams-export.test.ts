import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Download, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '@wa-bridge/shared/api/client';
import { verifyBundle } from '../../bridge-server/src/archive/export/verify-bundle.js';
import { axeViolations, contrastOf, frameOf, tooFaint, unnamedControls } from '../support/a11y.js';
import { startBridgeWorld, type BridgeWorld } from '../support/bridge.js';
import { teamsHostPage } from '../support/teams-host.js';
import { startTokenIssuer, type TestUser, type TokenIssuer } from '../support/token-issuer.js';
import { artifactsDir, conversationOf, startBrowserFor } from '../support/ui-world.js';
import { unzip } from '../support/zip.js';

/**
 * Evidence export from the Teams tab's matter view, in headless Chromium at side-panel width,
 * against a bridge configured like a firm's: a compliance officer saves a matter's bundle, which
 * verifies offline and whose SHA-256 the tab shows; a range of days gives a smaller bundle; an
 * empty matter is refused with the bridge's words; a case handler saves one conversation's bundle
 * from its view; a solicitor is not offered the action.
 */

const solicitor: TestUser = { upn: 'sam.harper@firm.test', name: 'Sam Harper', roles: ['Solicitor'] };
const officer: TestUser = { upn: 'olga.compliance@firm.test', name: 'Olga Berg', roles: ['ComplianceOfficer'] };
const admin: TestUser = { upn: 'it.admin@firm.test', name: 'IT Admin', roles: ['Admin'] };
const caseHandler: TestUser = { upn: 'carl.handler@firm.test', name: 'Carl Handler', roles: ['CaseHandler'] };

// Outside the sandbox the tab first asks for the demo sign-in, which answers 404; the empty
// matter's refusal (400) is provoked on purpose. The browser logs both.
const expectedProblems = new Set(['404 (Not Found)', '400 (Bad Request)'].map((status) => `console: Failed to load resource: the server responded with a status of ${status}`));

interface ManifestView {
  conversations: Array<{ events: number }>;
}

describe('Teams tab: exporting a matter’s evidence bundle', () => {
  let issuer: TokenIssuer;
  let world: BridgeWorld;
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  let adminApi: ApiClient;
  let work: string;

  /** The personal tab inside the stand-in Teams host, signed in as `user`, opened on matter `reference`. */
  async function openMatter(user: TestUser, reference: string, theme: 'default' | 'dark' = 'default'): Promise<{ page: Page; tab: FrameLocator }> {
    const page = await context.newPage();
    const body = teamsHostPage({ tabPath: '/teams/index.html?view=personal', ssoToken: await issuer.sign(user), theme });
    await page.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body }));
    await page.goto(`${world.bridge.url}/teams-host.html`);
    const tab = page.frameLocator('#tab');
    await tab.getByRole('button', { name: new RegExp(reference) }).click({ timeout: 20_000 });
    await tab.getByRole('region', { name: `Matter ${reference}` }).locator('.matter-state').waitFor({ timeout: 10_000 });
    return { page, tab };
  }

  /** Clicks the form's submit button and resolves with the saved file, its bytes and the SHA-256 the tab shows. */
  async function exportNow(page: Page, tab: FrameLocator, name: string) {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), tab.getByRole('button', { name: 'Build and save bundle' }).click()]);
    const file = path.join(work, name);
    await (download as Download).saveAs(file);
    const status = tab.getByRole('status').filter({ hasText: 'SHA-256' });
    await status.waitFor({ timeout: 10_000 });
    return { download: download as Download, file, bytes: await readFile(file), shown: (await status.locator('.export-sha256').innerText()).trim() };
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifactsDir, name), animations: 'disabled' });

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'wab-teams-export-'));
    issuer = await startTokenIssuer();
    // Nothing listens on port 9: these tests relay no mail; the archive keeps every message anyway.
    world = await startBridgeWorld({ smtpUrl: 'smtp://127.0.0.1:9', mailbox: 'solicitor@firm.test', env: issuer.env });
    ({ browser, context, problems } = await startBrowserFor(world.bridge.url));
    const adminToken = await issuer.sign(admin);
    adminApi = createApiClient({ baseUrl: world.bridge.url, getToken: async () => adminToken });

    const said = [
      ['2026-01-12T10:00:00Z', 'We have exchanged contracts on 12 Mill Lane.'],
      ['2026-03-10T09:30:00Z', 'The buyer asks to move completion to April.'],
      ['2026-03-20T16:45:00Z', 'Completion is confirmed for 3 April.'],
    ] as const;
    for (const [at, text] of said) {
      const answer = await world.simulator.postWebhook(world.simulator.inboundMessage({ from: '447700900555', name: 'Hana Ortiz', type: 'text', body: text, timestamp: new Date(at) }));
      expect(answer.status).toBe(200);
    }
    const conversation = await conversationOf(adminApi, '447700900555');
    const matter = await adminApi.createMatter({ reference: 'ORT-2026-0007', title: 'Ortiz: sale of 12 Mill Lane', members: [solicitor.upn, caseHandler.upn] });
    await adminApi.link(conversation.id, matter.id);
    await adminApi.createMatter({ reference: 'EMPTY-2026-0001', title: 'Nothing linked yet', members: [solicitor.upn] });
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await issuer?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('saves the whole matter as a bundle that verifies, showing the SHA-256 of the file saved', async () => {
    const { page, tab } = await openMatter(officer, 'ORT-2026-0007');
    await tab.getByRole('button', { name: 'Export evidence' }).click();
    const form = tab.getByRole('form', { name: 'Export evidence for ORT-2026-0007' });
    await form.waitFor({ timeout: 5_000 });
    const browserZone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(await form.getByRole('combobox', { name: /Time zone/ }).inputValue()).toBe(browserZone);
    expect(await form.getByLabel('To (not included)').inputValue()).toBe('');
    await shot(page, 'teams-export-form.png');

    // Hold the request until the progress line has been seen, then let the bridge build the bundle.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`${world.bridge.url}/api/exports`, async (route) => {
      await held;
      await route.continue();
    });
    const saving = exportNow(page, tab, 'whole.zip');
    await tab.getByText('Building the evidence bundle…').waitFor({ timeout: 10_000 });
    expect(await tab.getByRole('button', { name: 'Build and save bundle' }).isDisabled()).toBe(true);
    release();
    const whole = await saving;
    await page.unroute(`${world.bridge.url}/api/exports`);

    expect(whole.download.suggestedFilename()).toMatch(/^evidence-ORT-2026-0007-\d{4}-\d{2}-\d{2}\.zip$/);
    expect(whole.shown).toMatch(/^[0-9a-f]{64}$/);
    expect(whole.shown).toBe(createHash('sha256').update(whole.bytes).digest('hex'));
    expect(await verifyBundle(whole.file)).toMatchObject({ ok: true, problems: [] });
    expect(await tab.getByRole('status').filter({ hasText: 'SHA-256' }).innerText()).toContain(whole.download.suggestedFilename());
    await shot(page, 'teams-export-saved.png');

    // The same matter from 1 March up to (not including) 15 March: only the message of the 10th.
    await tab.getByLabel('From (included)').fill('2026-03-01');
    await tab.getByLabel('To (not included)').fill('2026-03-15');
    const part = await exportNow(page, tab, 'march.zip');
    expect(part.shown).toBe(createHash('sha256').update(part.bytes).digest('hex'));
    expect(part.shown).not.toBe(whole.shown);
    expect(await verifyBundle(part.file)).toMatchObject({ ok: true, problems: [] });
    const events = async (file: string) => (JSON.parse((await unzip(file)).get('manifest.json')!.toString('utf8')) as ManifestView).conversations.map((c) => c.events);
    const wholeEvents = await events(whole.file);
    const partEvents = await events(part.file);
    expect(wholeEvents).toHaveLength(1);
    expect(partEvents).toHaveLength(1);
    expect(wholeEvents[0]!).toBeGreaterThanOrEqual(3);
    expect(partEvents[0]!).toBeGreaterThanOrEqual(1);
    expect(partEvents[0]!).toBeLessThan(wholeEvents[0]!);
    const transcript = (await unzip(part.file)).get('transcript.html')!.toString('utf8');
    expect(transcript).toContain('The buyer asks to move completion to April.');
    expect(transcript).not.toContain('exchanged contracts');
    expect(transcript).not.toContain('Completion is confirmed');
    await page.close();
  });

  it("shows the bridge's refusal when a matter has nothing to export; by keyboard, labelled and readable in light and dark Teams", async () => {
    for (const theme of ['default', 'dark'] as const) {
      const { page, tab } = await openMatter(officer, 'EMPTY-2026-0001', theme);
      await tab.getByRole('button', { name: 'Export evidence' }).focus();
      await page.keyboard.press('Enter');
      const form = tab.getByRole('form', { name: 'Export evidence for EMPTY-2026-0001' });
      await form.waitFor({ timeout: 5_000 });
      expect((await unnamedControls(form)).unnamed).toEqual([]);
      await form.getByRole('button', { name: 'Build and save bundle' }).focus();
      await page.keyboard.press('Enter');
      const alert = tab.getByRole('alert').filter({ hasText: 'Export failed' });
      await alert.waitFor({ timeout: 10_000 });
      expect(await alert.innerText()).toContain('Matter EMPTY-2026-0001 has no conversations to export.');
      const readings = [
        ...(await contrastOf(form.locator('label'), 'label')),
        ...(await contrastOf(form.locator('.fui-Field__hint'), 'hint')),
        ...(await contrastOf(alert.locator('.fui-MessageBarBody'), 'refusal')),
      ];
      expect(readings.map((reading) => reading.what.split(':')[0])).toEqual(expect.arrayContaining(['label', 'hint', 'refusal']));
      expect(tooFaint(readings), theme).toEqual([]);
      expect(await axeViolations(await frameOf(page.locator('#tab'))), theme).toEqual([]);
      await shot(page, `teams-export-refused-${theme}.png`);
      await page.close();
    }
  });

  it('saves one conversation as a bundle from its own view, for a range of days', async () => {
    const { page, tab } = await openMatter(caseHandler, 'ORT-2026-0007');
    await tab.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Hana Ortiz/ }).click({ timeout: 10_000 });
    await tab.getByRole('button', { name: 'Export evidence' }).click({ timeout: 10_000 });
    const form = tab.getByRole('form', { name: 'Export evidence for this conversation' });
    await form.waitFor({ timeout: 5_000 });
    expect(await form.innerText()).toContain('This conversation, as a signed evidence bundle (zip).');
    await form.getByLabel('From (included)').fill('2026-03-15');
    const saved = await exportNow(page, tab, 'conversation.zip');
    const { chatId } = await conversationOf(adminApi, '447700900555');
    expect(saved.download.suggestedFilename()).toMatch(new RegExp(`^evidence-${chatId}-\\d{4}-\\d{2}-\\d{2}\\.zip$`));
    expect(saved.shown).toBe(createHash('sha256').update(saved.bytes).digest('hex'));
    expect(await verifyBundle(saved.file)).toMatchObject({ ok: true, problems: [] });
    const transcript = (await unzip(saved.file)).get('transcript.html')!.toString('utf8');
    expect(transcript).toContain('Completion is confirmed for 3 April.');
    expect(transcript).not.toContain('The buyer asks to move completion to April.');
    expect(await axeViolations(await frameOf(page.locator('#tab')))).toEqual([]);
    await shot(page, 'teams-export-conversation.png');
    await page.close();
  });

  it('does not offer the export to a solicitor on the matter, nor in its conversation', async () => {
    const { page, tab } = await openMatter(solicitor, 'ORT-2026-0007');
    expect(await tab.getByRole('button', { name: 'Close matter' }).count()).toBe(1);
    expect(await tab.getByRole('button', { name: 'Export evidence' }).count()).toBe(0);
    await tab.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Hana Ortiz/ }).click({ timeout: 10_000 });
    await tab.getByRole('button', { name: '← Back to conversations' }).waitFor({ timeout: 10_000 });
    expect(await tab.getByRole('button', { name: 'Export evidence' }).count()).toBe(0);
    await page.close();
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(problems.filter((problem) => !expectedProblems.has(problem))).toEqual([]);
  });
});
