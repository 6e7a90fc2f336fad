import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../../bridge-server/src/channels/chat-export/zip-builder.js';
import { axeViolations, frameOf } from '../support/a11y.js';
import { teamsHostPage } from '../support/teams-host.js';
import { artifactsDir, clientSays, conversationOf, startUiWorld, taskPaneViewport, type UiWorld } from '../support/ui-world.js';

const fixture = path.resolve(import.meta.dirname, '../fixtures/exports/android-24h-uk-dash.txt');

/**
 * Importing a WhatsApp export from the Teams tab at task-pane width: the file is read in the
 * browser for a preview, uploaded on request, and its messages join the conversation.
 */
describe('Teams tab: importing a chat export', () => {
  let world: UiWorld;
  let page: Page;
  let tab: FrameLocator;
  const jane = { phone: '447700900777', name: 'Jane Smith' };
  let conversationId = 0;

  beforeAll(async () => {
    world = await startUiWorld();
    await clientSays(world.bridge, { ...jane, text: 'I will send you our old chat about the lease.' });
    conversationId = (await conversationOf(world.api, jane.phone)).id;
    const matter = await world.api.createMatter({ reference: 'SMI-2026-0099', title: 'Smith: lease renewal', matterType: 'Commercial property' });
    await world.api.link(conversationId, matter.id);

    page = await world.context.newPage();
    await page.setViewportSize(taskPaneViewport);
    await page.route(`${world.bridge.url}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage({ tabPath: '/teams/index.html?view=personal' }) }));
    await page.goto(`${world.bridge.url}/teams-host.html`);
    tab = page.frameLocator('#tab');
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('previews a .txt export, imports it, and shows its messages in the conversation', async () => {
    await tab.getByRole('button', { name: /SMI-2026-0099/ }).click({ timeout: 20_000 });
    await tab.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Jane Smith/ }).click({ timeout: 10_000 });
    const view = tab.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    await view.locator('li.bubble.incoming').first().waitFor({ timeout: 10_000 });

    const importer = view.getByRole('region', { name: 'Import a chat export' });
    await importer.getByRole('button', { name: 'Import a chat export (.txt or .zip)' }).waitFor();
    await importer.getByLabel('Import a chat export (.txt or .zip)', { exact: true }).and(importer.locator('input[type=file]')).setInputFiles(fixture);

    const preview = importer.getByRole('region', { name: 'Preview of android-24h-uk-dash.txt' });
    await preview.waitFor({ timeout: 10_000 });
    const facts = await preview.locator('li').allInnerTexts();
    expect(facts[0]).toBe('6 messages');
    expect(facts[1]).toMatch(/^from 2024-03-14 09:12:00 to 2024-04-01 08:00:00 \(.+\)$/);
    // Jane is the client by name, so the other author is offered as the firm.
    expect(await preview.getByRole('checkbox', { name: /^Tom Baker/ }).isChecked()).toBe(true);
    expect(await preview.getByRole('checkbox', { name: /^Jane Smith/ }).isChecked()).toBe(false);
    expect(await axeViolations(await frameOf(page.locator('#tab')))).toEqual([]);
    await page.screenshot({ path: path.join(artifactsDir, 'teams-import-preview.png') });
    // Nothing is sent before the user asks.
    expect((await world.api.listMessages(conversationId, { limit: 100 })).items).toHaveLength(1);

    await preview.getByRole('button', { name: 'Import', exact: true }).click();
    const summary = importer.getByRole('status');
    await summary.waitFor({ timeout: 15_000 });
    expect(await summary.innerText()).toContain('Imported 6 of 6 messages (0 already archived)');
    await expect
      .poll(() => view.locator('li.bubble .text').allInnerTexts(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['Clause 4.2: the break clause', 'Of course.\nWhich clause?', 'I will send you our old chat about the lease.']));
    await page.screenshot({ path: path.join(artifactsDir, 'teams-import-done.png') });

    const items = (await world.api.listMessages(conversationId, { limit: 100 })).items;
    expect(items.find((m) => m.text === 'Of course.\nWhich clause?')).toMatchObject({ direction: 'outbound', sender: { side: 'firm' } });
    expect(world.problems).toEqual([]);
  });

  it('reads the export\'s times in the zone the user picks, and refuses to import under a zone that does not exist', async () => {
    const view = tab.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    const importer = view.getByRole('region', { name: 'Import a chat export' });
    // Written on a phone in New York: 09:00 there on 2 May 2024 (EDT) is 13:00 UTC.
    const text = '02/05/2024, 09:00 - Jane Smith: Landed in New York, will call about the lease\n02/05/2024, 09:05 - Tom Baker: Safe travels\n';
    await importer.getByLabel('Import a chat export (.txt or .zip)', { exact: true }).and(importer.locator('input[type=file]')).setInputFiles({ name: 'new-york.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    const preview = importer.getByRole('region', { name: 'Preview of new-york.txt' });
    await preview.waitFor({ timeout: 10_000 });
    const zone = preview.getByRole('combobox', { name: /times are the phone's clock in/ });
    const importButton = preview.getByRole('button', { name: 'Import', exact: true });

    await zone.fill('Mars/Olympus_Mons');
    await preview.getByText('Choose a time zone from the list, such as Europe/London.').waitFor({ timeout: 5000 });
    expect(await importButton.isDisabled()).toBe(true);

    await zone.click();
    await zone.fill('new_york');
    // The list opens in a layer of its own, outside the preview.
    await tab.getByRole('option', { name: 'America/New_York' }).click();
    expect(await zone.inputValue()).toBe('America/New_York');
    expect(await preview.locator('li').nth(1).innerText()).toBe('from 2024-05-02 09:00:00 to 2024-05-02 09:05:00 (America/New_York)');
    await page.screenshot({ path: path.join(artifactsDir, 'teams-import-zone.png') });
    await importButton.click();
    await expect.poll(() => importer.getByRole('status').innerText(), { timeout: 15_000 }).toContain('Imported 2 of 2 messages');

    const items = (await world.api.listMessages(conversationId, { limit: 100 })).items;
    expect(items.find((m) => m.text === 'Landed in New York, will call about the lease')?.sentAt).toBe('2024-05-02T13:00:00.000Z');
    expect(items.find((m) => m.text === 'Safe travels')).toMatchObject({ sentAt: '2024-05-02T13:05:00.000Z', direction: 'outbound' });
    expect(world.problems).toEqual([]);
  });

  it('says which times a clock change made missing or double, and how it read them', async () => {
    const view = tab.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    const importer = view.getByRole('region', { name: 'Import a chat export' });
    // The clocks went forward in London at 01:00 on 29 March 2026: 01:30 never happened there.
    const text = '29/03/2026, 01:30 - Jane Smith: Cannot sleep, thinking about the hearing\n29/03/2026, 09:00 - Tom Baker: We will talk at ten\n';
    await importer.getByLabel('Import a chat export (.txt or .zip)', { exact: true }).and(importer.locator('input[type=file]')).setInputFiles({ name: 'clocks.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    const preview = importer.getByRole('region', { name: 'Preview of clocks.txt' });
    await preview.waitFor({ timeout: 10_000 });
    const zone = preview.getByRole('combobox', { name: /times are the phone's clock in/ });
    await zone.click();
    await zone.fill('europe/lon');
    await tab.getByRole('option', { name: 'Europe/London' }).click();
    await preview.getByRole('button', { name: 'Import', exact: true }).click();
    const summary = importer.getByRole('status');
    await expect.poll(() => summary.innerText(), { timeout: 15_000 }).toContain('Imported 2 of 2 messages');
    expect(await summary.getByRole('listitem').allInnerTexts()).toEqual([
      'line 1: 2026-03-29 01:30:00 does not exist in Europe/London (the clocks went forward 1 hour); read as 02:30:00 UTC+01:00 (2026-03-29T01:30:00Z), just after the gap',
    ]);
    expect(world.problems).toEqual([]);
  });

  it('refuses a dropped file that is not an export with a readable error, and sends nothing', async () => {
    const view = tab.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    const before = (await world.api.listMessages(conversationId, { limit: 100 })).items.length;
    const importer = view.getByRole('region', { name: 'Import a chat export' });
    // The drop zone and the file button share one handler; this goes through the drop.
    await importer.getByTestId('import-drop-zone').evaluate((zone) => {
      const data = new DataTransfer();
      data.items.add(new File(['shopping list\nmilk\neggs\n'], 'notes.txt', { type: 'text/plain' }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    const alert = importer.getByRole('alert');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.innerText()).toMatch(/^notes\.txt: .*export/i);
    expect((await world.api.listMessages(conversationId, { limit: 100 })).items).toHaveLength(before);
  });

  it('takes a .zip from the keyboard, shows its name and size, and imports it with its media', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wab-ui-import-'));
    try {
      const zip = path.join(dir, 'WhatsApp Chat - Jane Smith.zip');
      await writeZip(zip, [
        { name: '_chat.txt', bytes: await readFile(path.resolve(import.meta.dirname, '../fixtures/exports/ios-24h-uk-bracketed.txt')) },
        { name: '00000012-PHOTO-2024-03-14-09-13-10.jpg', bytes: randomBytes(4096), compress: false },
      ]);
      const importer = tab.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' }).getByRole('region', { name: 'Import a chat export' });
      const button = importer.getByRole('button', { name: 'Import a chat export (.txt or .zip)' });
      // The chooser is awaited before the focus round trip, so Playwright's interception is in
      // place in the tab's frame by the time Enter opens it (racing the two lost the event).
      const chosen = page.waitForEvent('filechooser');
      await button.focus();
      await page.keyboard.press('Enter');
      const chooser = await chosen;
      await chooser.setFiles(zip);

      const preview = importer.getByRole('region', { name: 'Preview of WhatsApp Chat - Jane Smith.zip' });
      await preview.waitFor({ timeout: 10_000 });
      expect(await preview.innerText()).toMatch(/WhatsApp Chat - Jane Smith\.zip \(\d+(\.\d)? KB\)/);
      await preview.getByLabel(/Names of the firm's people/).fill('Tom Baker');
      await preview.getByRole('button', { name: 'Import', exact: true }).click();
      const summary = importer.getByRole('status');
      await expect.poll(() => summary.innerText(), { timeout: 15_000 }).toMatch(/^Imported \d+ of \d+ messages \(0 already archived; media 1 linked, \d+ not in the export\)\.$/);
      await page.screenshot({ path: path.join(artifactsDir, 'teams-import-zip.png') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(world.problems).toEqual([]);
  });
});
