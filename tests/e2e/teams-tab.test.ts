import fs from 'node:fs/promises';
import path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, contrastOf, frameOf, conversationContrast, tooFaint, unnamedControls } from '../support/a11y.js';
import { pdfOf } from '../../bridge-server/src/search/test-documents.js';
import { teamsHostPage } from '../support/teams-host.js';
import { artifactsDir, clientSays, conversationOf, startUiWorld, taskPaneViewport, type UiWorld } from '../support/ui-world.js';

/**
 * The Teams tab in headless Chromium, inside a stand-in Teams host page that answers teams-js over
 * postMessage, against a real sandbox bridge: a matter's conversations, search, and the admin view.
 */

const teamsAssets = path.resolve(import.meta.dirname, '../../teams-app/dist/assets');

describe('Teams tab', () => {
  let world: UiWorld;
  let page: Page;
  let tab: FrameLocator;
  const jane = { phone: '447700900123', name: 'Jane Smith' };
  const omar = { phone: '447700900456', name: 'Omar Khan' };

  beforeAll(async () => {
    world = await startUiWorld();
    await clientSays(world.bridge, { ...jane, text: 'Has the completion date been agreed with the seller?' });
    await clientSays(world.bridge, { ...omar, text: 'I have signed the lease and posted it today.' });
    await clientSays(world.bridge, { ...jane, text: 'Also, the survey mentions damp in the cellar.' });
    const janeConversation = await conversationOf(world.api, jane.phone);
    await conversationOf(world.api, omar.phone);
    const purchase = await world.api.createMatter({ reference: 'SMI-2026-0042', title: 'Smith: purchase of 4 Elm Road', matterType: 'Conveyancing' });
    await world.api.createMatter({ reference: 'KHA-2026-0007', title: 'Khan: commercial lease', matterType: 'Commercial property' });
    await world.api.link(janeConversation.id, purchase.id);

    page = await world.context.newPage();
    await page.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath: '/teams/index.html?view=personal' }) }));
    await page.goto(`${world.bridge.url}/teams-host.html`);
    tab = page.frameLocator('#tab');
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('initializes inside the host and lists the matters', async () => {
    const matters = tab.getByRole('list', { name: 'Matters' });
    await matters.locator('.matter-ref', { hasText: 'SMI-2026-0042' }).waitFor({ timeout: 20_000 });
    expect((await matters.locator('.matter-ref').allInnerTexts()).sort()).toEqual(['KHA-2026-0007', 'SMI-2026-0042']);
    const calls = await page.evaluate(() => (window as unknown as { __teamsCalls: { func: string }[] }).__teamsCalls.map((call) => call.func));
    expect(calls).toContain('initialize');
    expect(calls).toContain('getContext');
  });

  it("lists a matter's conversations and opens one", async () => {
    await tab.getByRole('button', { name: /SMI-2026-0042/ }).click();
    const conversations = tab.getByRole('list', { name: 'Conversations' });
    await conversations.locator('.client-name').first().waitFor({ timeout: 10_000 });
    expect(await conversations.locator('.client-name').allInnerTexts()).toEqual(['Jane Smith']);
    expect(await conversations.locator('.client-name').getAttribute('dir')).toBe('auto');
    await page.screenshot({ path: path.join(artifactsDir, 'teams-matter-conversations.png') });

    await conversations.getByRole('button', { name: /Jane Smith/ }).click();
    const view = tab.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    await expect.poll(() => view.locator('li.bubble.incoming .text').allInnerTexts(), { timeout: 10_000 }).toEqual([
      'Has the completion date been agreed with the seller?',
      'Also, the survey mentions damp in the cellar.',
    ]);
    expect(await view.locator('.matter-ref').allInnerTexts()).toEqual(['SMI-2026-0042']);
    await page.screenshot({ path: path.join(artifactsDir, 'teams-conversation.png') });
  });

  it('searches messages and highlights the words that matched', async () => {
    await tab.getByRole('tab', { name: 'Search' }).click();
    await tab.getByLabel('Words').fill('lease');
    await tab.getByRole('button', { name: 'Search', exact: true }).click();
    const hits = tab.locator('li.search-hit');
    await hits.first().waitFor({ timeout: 10_000 });
    expect(await hits.count()).toBe(1);
    expect(await hits.first().innerText()).toContain('Omar Khan');
    expect((await hits.first().locator('mark').allInnerTexts()).map((text) => text.toLowerCase())).toEqual(['lease']);
    // The client's name and words run in their own direction, as they were written.
    expect(await hits.first().locator('.client-name').getAttribute('dir')).toBe('auto');
    expect(await hits.first().locator('.snippet').getAttribute('dir')).toBe('auto');

    // Narrowed to the purchase matter, the lease message is not there, and damp is.
    await tab.getByRole('button', { name: 'Filters' }).click();
    await tab.getByLabel('Matter').selectOption({ label: 'SMI-2026-0042' });
    await tab.getByRole('button', { name: 'Search', exact: true }).click();
    await tab.getByRole('status').filter({ hasText: 'No messages match.' }).waitFor({ timeout: 10_000 });
    await tab.getByLabel('Words').fill('damp');
    await tab.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => hits.allInnerTexts(), { timeout: 10_000 }).toEqual([expect.stringContaining('damp in the cellar')]);
    await page.screenshot({ path: path.join(artifactsDir, 'teams-search.png') });

    await hits.first().getByRole('button').click();
    const view = tab.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    await view.waitFor({ timeout: 10_000 });
    expect(await view.locator('.client-name').getAttribute('dir')).toBe('auto');
  });

  it("shows the admin view to the sandbox's admin: channel state, relay lag, the archive's tasks and reply senders", async () => {
    await tab.getByRole('tab', { name: 'Admin' }).click();
    await tab.getByText('WhatsApp Business Cloud API').waitFor({ timeout: 10_000 });
    expect(await tab.locator('.relay-lag').innerText()).toMatch(/^Oldest waiting job: \d+ s · pending \d+ · running \d+ · needing attention 0$/);
    // The three client messages came in through the signed webhook; nothing was refused.
    const cloudApi = (await world.api.adminStatus()).channels.find((channel) => channel.kind === 'cloud-api')!;
    expect(cloudApi.webhooks).toEqual({ accepted: 3 });
    expect(await tab.locator('.channel[data-kind="cloud-api"] .webhook-health').innerText()).toBe('Webhooks since start: accepted 3');
    // The sandbox lets its pretend firm's domain reply by email.
    expect(await tab.getByRole('list', { name: 'Who may reply by email' }).locator('li.allowed-sender').allInnerTexts()).toEqual(['anyone at firm.sandbox.test']);
    // The archive's scheduled tasks, when each last ran; the sandbox keeps no backups, and says how to.
    const archive = (await world.api.adminStatus()).archive;
    expect(archive.map((task) => task.task)).toEqual(['checkpoint', 'retention']);
    const shownAt = (iso: string) => page.evaluate((at) => new Date(at).toLocaleString(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }), iso);
    expect(await tab.getByRole('list', { name: 'Archive' }).locator('li.archive-task').allInnerTexts()).toEqual([
      `Signed checkpoint of every conversation chain: last ${await shownAt(archive[0]!.lastRunAt!)} (every 24 hours)`,
      `Retention run: last ${await shownAt(archive[1]!.lastRunAt!)} (every 24 hours)`,
    ]);
    expect(await tab.locator('li.archive-task[data-overdue="true"]').count()).toBe(0);
    await tab.getByText('No scheduled backups: set WA_BRIDGE_BACKUP_DIR, or run wa-bridge backup from elsewhere.').waitFor({ timeout: 5_000 });
    expect(await tab.locator('.documents-waiting').innerText()).toBe('Documents waiting to be read for search: 0');
    await page.setViewportSize({ width: taskPaneViewport.width, height: 1000 });
    await page.screenshot({ path: path.join(artifactsDir, 'teams-admin.png') });
  });

  it('lists a job that needs attention and retries it from the admin view', async () => {
    const simulator = world.bridge.sandbox!.simulator;
    // A 403 on the media download is permanent, so the fetch job is parked at once.
    simulator.failNextMediaDownloads(1, 403);
    const envelope = simulator.inboundMessage({ from: omar.phone, name: omar.name, type: 'document', media: simulator.addMedia(Buffer.from('signed lease'), 'application/pdf'), filename: 'lease.pdf' });
    expect((await simulator.postWebhook(envelope)).status).toBe(200);
    await expect.poll(async () => (await world.api.listJobs()).items.map((job) => job.state), { timeout: 15_000 }).toEqual(['needs_attention']);
    // Opening the view again loads at once instead of at the next refresh.
    await tab.getByRole('tab', { name: 'Search' }).click();
    await tab.getByRole('tab', { name: 'Admin' }).click();
    const retry = tab.getByRole('button', { name: /^Retry job \d+$/ });
    await retry.waitFor({ timeout: 10_000 });
    expect(await tab.getByRole('table').innerText()).toContain('media.fetch');
    await retry.click();
    await tab.getByText('None.').waitFor({ timeout: 20_000 });
    await expect.poll(async () => (await world.api.listJobs()).items.length, { timeout: 10_000 }).toBe(0);
  });

  it('shows the audit trail, filtered by action: the link made for this test is in it', async () => {
    await tab.getByRole('tab', { name: 'Audit trail' }).click();
    const trail = tab.getByRole('list', { name: 'Audit trail' });
    await trail.locator('li.audit-entry').first().waitFor({ timeout: 10_000 });
    await tab.getByLabel('Action').fill('matter.link');
    await tab.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => trail.locator('li.audit-entry').evaluateAll((entries) => entries.map((entry) => entry.getAttribute('data-action'))), { timeout: 10_000 }).toEqual(['matter.link']);
    const entry = trail.locator('li.audit-entry');
    expect(await entry.locator('.audit-target').innerText()).toMatch(/^conversation:[a-z2-7]{26}$/);
    expect(await entry.innerText()).toContain('matter: SMI-2026-0042');

    // The same filter, every matching entry, as the CSV file `wa-bridge audit --format csv` writes.
    const [download] = await Promise.all([page.waitForEvent('download'), tab.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = (await fs.readFile((await download.path())!, 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toBe('id,at,actor,actorName,roles,action,target,source,details,prevSha256,entrySha256');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain(',matter.link,conversation:');
    expect(csv[1]).toContain(await entry.locator('.audit-target').innerText());
    // Downloading did not change what the view shows, and the view says what it saved.
    expect(await trail.locator('li.audit-entry').count()).toBe(1);
    expect(await tab.getByRole('status').filter({ hasText: download.suggestedFilename() }).innerText()).toBe(`Saved ${download.suggestedFilename()}: every entry these filters match.`);

    // Ended at the first day (yesterday, before the link was made), the range holds none; ended before it, it is refused.
    const firstDay = await tab.getByLabel('From day').inputValue();
    await tab.getByLabel('To day').fill(firstDay);
    await tab.getByRole('button', { name: 'Show' }).click();
    await tab.getByText('Nothing recorded for these filters.').waitFor({ timeout: 10_000 });
    const dayBefore = new Date(Date.parse(`${firstDay}T12:00:00Z`) - 24 * 3600_000).toISOString().slice(0, 10);
    await tab.getByLabel('To day').fill(dayBefore);
    await tab.getByRole('button', { name: 'Show' }).click();
    await tab.getByRole('alert').filter({ hasText: 'The last day comes before the first: change one of them.' }).waitFor({ timeout: 5_000 });
    await tab.getByLabel('To day').fill('');
    await tab.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => trail.locator('li.audit-entry').count(), { timeout: 10_000 }).toBe(1);
    await page.screenshot({ path: path.join(artifactsDir, 'teams-audit-trail.png') });
  });

  it("binds a channel tab to a matter on the configuration page, and saves the tab's address", async () => {
    const config = await world.context.newPage();
    await config.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath: '/teams/index.html?view=config', frameContext: 'settings' }) }));
    await config.goto(`${world.bridge.url}/teams-host.html`);
    const frame = config.frameLocator('#tab');
    const calls = () => config.evaluate(() => (window as unknown as { __teamsCalls: { func: string; args: unknown[] }[] }).__teamsCalls);
    await frame.getByLabel('Matter').waitFor({ timeout: 20_000 });
    await expect.poll(async () => (await calls()).filter((call) => call.func === 'settings.setValidityState').at(-1)?.args).toEqual([false]);

    const purchase = (await world.api.listMatters({ q: 'SMI-2026-0042' })).items[0]!;
    // The title is isolated (U+2068 … U+2069): one in Arabic or Hebrew would not move the reference.
    const option = 'SMI-2026-0042 · \u2068Smith: purchase of 4 Elm Road\u2069';
    expect(await frame.getByLabel('Matter').locator('option').allTextContents()).toContain(option);
    await frame.getByLabel('Matter').selectOption({ label: option });
    await expect.poll(async () => (await calls()).filter((call) => call.func === 'settings.setValidityState').at(-1)?.args).toEqual([true]);
    await config.evaluate(() => (window as unknown as { __teams: { pressSave(): void } }).__teams.pressSave());
    await expect.poll(async () => (await calls()).map((call) => call.func)).toContain('settings.save.success');
    const saved = (await calls()).find((call) => call.func === 'settings.setSettings')!.args[0] as Record<string, string>;
    expect(saved).toMatchObject({ entityId: String(purchase.id), suggestedDisplayName: 'WhatsApp · SMI-2026-0042', contentUrl: `${world.bridge.url}/teams/index.html?view=channel&matter=${purchase.id}` });
    await config.close();
  });

  it('says on the configuration page why no matter can be chosen when the matters cannot be read', async () => {
    const config = await world.context.newPage();
    await config.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath: '/teams/index.html?view=config', frameContext: 'settings' }) }));
    // The bridge unreachable for this one request, as behind a proxy that is restarting.
    await config.route(`${world.bridge.url}/api/matters?*`, (route) => route.abort('connectionrefused'));
    await config.goto(`${world.bridge.url}/teams-host.html`);
    const frame = config.frameLocator('#tab');
    const alert = frame.getByRole('alert');
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.innerText()).toMatch(/^The matters could not be loaded: /);
    expect(await frame.getByLabel('Matter').locator('option').allTextContents()).toEqual(['Choose a matter']);
    await config.close();
    // The browser logs the refused request it was made to see; that one entry, and only it, is expected.
    const refused = 'console: Failed to load resource: net::ERR_CONNECTION_REFUSED';
    expect(world.problems.filter((problem) => problem === refused)).toHaveLength(1);
    world.problems.splice(world.problems.indexOf(refused), 1);
  });

  it('opens a channel tab on its matter, in the dark theme when Teams is dark', async () => {
    const purchase = (await world.api.listMatters({ q: 'SMI-2026-0042' })).items[0]!;
    const channel = await world.context.newPage();
    const tabPath = `/teams/index.html?view=channel&matter=${purchase.id}`;
    await channel.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath, theme: 'dark', entityId: String(purchase.id) }) }));
    await channel.goto(`${world.bridge.url}/teams-host.html`);
    const frame = channel.frameLocator('#tab');
    await frame.locator('.matter-heading', { hasText: 'SMI-2026-0042' }).waitFor({ timeout: 20_000 });
    expect(await frame.getByRole('list', { name: 'Conversations' }).locator('.client-name').allInnerTexts()).toEqual(['Jane Smith']);
    expect(await frame.getByRole('tab').count()).toBe(0);
    const background = await frame.locator('.fui-FluentProvider').first().evaluate((element) => getComputedStyle(element).backgroundColor);
    const [r, g, b] = background.match(/\d+/g)!.map(Number) as [number, number, number];
    expect((0.2126 * r + 0.7152 * g + 0.0722 * b) / 255).toBeLessThan(0.25);
    await channel.screenshot({ path: path.join(artifactsDir, 'teams-channel-dark.png') });
    await channel.close();
  });

  it("names every control and passes axe-core's WCAG 2.1 AA checks, in each view", async () => {
    const frame = await frameOf(page.locator('#tab'));
    const named = async (view: string) => {
      const { count, unnamed } = await unnamedControls(tab);
      expect(count, view).toBeGreaterThan(0);
      expect(unnamed, view).toEqual([]);
      expect(await axeViolations(frame), view).toEqual([]);
    };
    await tab.getByRole('tab', { name: 'Matters' }).click();
    await tab.getByRole('button', { name: /SMI-2026-0042/ }).click({ timeout: 10_000 });
    await named('a matter');
    await tab.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Jane Smith/ }).click({ timeout: 10_000 });
    await tab.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' }).waitFor({ timeout: 10_000 });
    await named('a conversation');
    await tab.getByRole('tab', { name: 'Search' }).click();
    await tab.getByRole('button', { name: 'Filters' }).click();
    await tab.getByLabel('Matter').waitFor({ timeout: 10_000 });
    await named('search with its filters');
    await tab.getByRole('tab', { name: 'Admin' }).click();
    await tab.locator('.relay-lag').waitFor({ timeout: 10_000 });
    await named('admin');
    await tab.getByRole('tab', { name: 'Audit trail' }).click();
    await tab.getByRole('list', { name: 'Audit trail' }).locator('li.audit-entry').first().waitFor({ timeout: 10_000 });
    await named('audit trail');
  });

  it('is readable in light and dark Teams: text, banner, timestamps and ticks stand out from their background', async () => {
    // A reply, so there are ticks to measure (the sandbox's simulator reports it delivered and read).
    const janeConversation = await conversationOf(world.api, jane.phone);
    await world.api.reply(janeConversation.id, { text: 'The seller has agreed the 14th.' });
    for (const theme of ['default', 'dark'] as const) {
      const teams = await world.context.newPage();
      await teams.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath: '/teams/index.html?view=personal', theme }) }));
      await teams.goto(`${world.bridge.url}/teams-host.html`);
      const frame = teams.frameLocator('#tab');
      await frame.getByRole('button', { name: /SMI-2026-0042/ }).click({ timeout: 20_000 });
      await frame.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Jane Smith/ }).click({ timeout: 10_000 });
      await frame.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' }).locator('.ticks[data-status="read"]').waitFor({ timeout: 20_000 });
      const banner = frame.locator('.fui-MessageBar:has-text("Sandbox demo user")');
      const readings = [
        ...(await conversationContrast(frame)),
        ...(await contrastOf(banner.locator('.fui-MessageBarTitle'), 'sandbox banner title')),
        ...(await contrastOf(banner.locator('.fui-MessageBarBody'), 'sandbox banner')),
        ...(await contrastOf(frame.getByRole('tab'), 'tab name')),
      ];
      expect(readings.map((reading) => reading.what.split(':')[0])).toEqual(expect.arrayContaining(['client text', 'firm text', 'timestamp', 'delivery ticks', 'sandbox banner', 'tab name']));
      expect(tooFaint(readings), theme).toEqual([]);
      await teams.screenshot({ path: path.join(artifactsDir, `teams-contrast-${theme}.png`) });
      await teams.close();
    }
  });

  it("runs in a plain browser tab on the sandbox's demo sign-in, without loading teams-js or asking its CDN", async () => {
    // teams-js names the CDN list it fetches on load; the build keeps the address as a string.
    const teamsJsMarker = 'res.cdn.office.net/teams-js/validDomains';
    const builtChunks = await fs.readdir(teamsAssets);
    const withTeamsJs: string[] = [];
    for (const name of builtChunks.filter((file) => file.endsWith('.js'))) {
      if ((await fs.readFile(path.join(teamsAssets, name), 'utf8')).includes(teamsJsMarker)) withTeamsJs.push(name);
    }
    // The tab is built with teams-js in a chunk of its own, which the frame test above loaded.
    expect(withTeamsJs).toHaveLength(1);

    const plain = await world.context.newPage();
    const outside: string[] = [];
    const scripts: Array<Promise<{ url: string; body: string }>> = [];
    plain.on('request', (request) => {
      if (!request.url().startsWith(`${world.bridge.url}/`)) outside.push(request.url());
    });
    plain.on('response', (response) => {
      if (response.request().resourceType() === 'script') scripts.push(response.text().then((body) => ({ url: response.url(), body })));
    });
    try {
      await plain.goto(`${world.bridge.url}/teams/index.html?view=personal`);
      await plain.getByText('Sandbox demo user').first().waitFor({ timeout: 20_000 });
      await plain.getByRole('list', { name: 'Matters' }).locator('.matter-ref', { hasText: 'SMI-2026-0042' }).waitFor({ timeout: 10_000 });
      expect(outside).toEqual([]);
      const loaded = await Promise.all(scripts);
      expect(loaded.length).toBeGreaterThan(0);
      expect(loaded.filter(({ body }) => body.includes(teamsJsMarker)).map(({ url }) => url)).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it("answers a browser's favicon request with the add-in's icon, not a 404", async () => {
    const response = await fetch(`${world.bridge.url}/favicon.ico`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await response.arrayBuffer()).subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('finds a message by words inside the PDF it carries, and says the document was searched', async () => {
    const simulator = world.bridge.sandbox!.simulator;
    const pdf = await pdfOf(['Heads of terms', 'The tenant may break the lease after five years on six months notice.']);
    const envelope = simulator.inboundMessage({ from: '447700900457', name: 'Priya Patel', type: 'document', media: simulator.addMedia(pdf, 'application/pdf'), filename: 'heads-of-terms.pdf' });
    expect((await simulator.postWebhook(envelope)).status).toBe(200);
    await tab.getByRole('tab', { name: 'Search' }).click();
    const words = tab.getByLabel('Words');
    await words.waitFor({ timeout: 10_000 });
    await words.fill('six months notice');
    const hits = tab.locator('li.search-hit');
    // The document is read in the background: searched again until its text is in.
    await expect
      .poll(
        async () => {
          await tab.getByRole('button', { name: 'Search', exact: true }).click();
          await tab.getByRole('status').filter({ hasText: /match/ }).waitFor({ timeout: 5_000 });
          return hits.count();
        },
        { timeout: 30_000 },
      )
      .toBe(1);
    expect(await hits.first().locator('.client-name').innerText()).toBe('Priya Patel');
    expect((await hits.first().locator('mark').allInnerTexts()).map((text) => text.toLowerCase())).toEqual(['six', 'months', 'notice']);
    expect(await hits.first().locator('.searched-documents').innerText()).toBe('Searched with the text of heads-of-terms.pdf');
    await page.screenshot({ path: path.join(artifactsDir, 'teams-search-document.png') });

    // A damaged PDF: the admin view lists it as a document search cannot look inside.
    const damaged = simulator.inboundMessage({ from: '447700900457', name: 'Priya Patel', type: 'document', media: simulator.addMedia(Buffer.from('%PDF-1.4 torn in half'), 'application/pdf'), filename: 'rent-schedule.pdf' });
    expect((await simulator.postWebhook(damaged)).status).toBe(200);
    await tab.getByRole('tab', { name: 'Admin' }).click();
    const unread = tab.getByRole('table', { name: 'Documents search cannot look inside' }).locator('tr.unread-document', { hasText: 'rent-schedule.pdf' });
    // The view reads the list again every 10 s.
    await unread.waitFor({ timeout: 30_000 });
    expect(await unread.innerText()).toContain('from Priya Patel');
    expect(await unread.locator('.unread-reason').innerText()).toMatch(/^not readable as PDF \(/);
    await unread.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artifactsDir, 'teams-admin-unread-documents.png') });
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(world.problems).toEqual([]);
  });
});
