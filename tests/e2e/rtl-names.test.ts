import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/a11y.js';
import { artifactsDir, clientSays, conversationOf, startUiWorld, type UiWorld } from '../support/ui-world.js';

/**
 * Names and titles people typed in Hebrew or Arabic run right to left in their own box, as client
 * names and message texts already do: matter titles in the Teams tab's lists and heading, in the
 * matter picker and the matter strip's tooltip, and people's names beside messages. The Teams tab
 * runs in headless Chromium against a sandbox bridge.
 */

describe('right-to-left matter titles and names', () => {
  let world: UiWorld;
  let page: Page;
  const client = { phone: '447700900777', name: 'דנה כהן' };
  const linked = { reference: 'COH-2026-0011', title: 'כהן: רכישת דירה ברחוב הרצל 12', matterType: 'Conveyancing' };
  const other = { reference: 'LEV-2026-0012', title: 'לוי: צוואה וירושה' };

  /** The attribute and the direction the browser resolved for it. */
  const direction = (locator: Locator) => locator.evaluate((element) => ({ dir: element.getAttribute('dir'), resolved: getComputedStyle(element).direction }));

  beforeAll(async () => {
    world = await startUiWorld();
    await clientSays(world.bridge, { ...client, text: 'שלום, מתי החתימה?' });
    const conversation = await conversationOf(world.api, client.phone);
    const matter = await world.api.createMatter(linked);
    await world.api.createMatter(other);
    await world.api.link(conversation.id, matter.id);
    page = await world.context.newPage();
    await page.goto(`${world.bridge.url}/teams/index.html?view=personal`);
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('runs a Hebrew matter title right to left in the matter list, beside a type that stays left to right', async () => {
    const row = page.getByRole('list', { name: 'Matters' }).getByRole('listitem').filter({ has: page.locator('.matter-ref', { hasText: linked.reference }) });
    await row.waitFor({ timeout: 20_000 });
    const title = row.locator('.matter-title');
    expect(await title.innerText()).toBe(linked.title);
    expect(await direction(title)).toEqual({ dir: 'auto', resolved: 'rtl' });
    expect(await direction(row.locator('.matter-type'))).toEqual({ dir: 'auto', resolved: 'ltr' });
    // Nothing scrolls sideways in the narrow side panel.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await row.getByRole('button').click();
  });

  it('runs it right to left in the matter heading, and members’ names in their own direction', async () => {
    await page.locator('.matter-heading', { hasText: linked.reference }).waitFor({ timeout: 10_000 });
    const heading = page.locator('.matter-title');
    expect(await heading.innerText()).toBe(linked.title);
    expect(await direction(heading)).toEqual({ dir: 'auto', resolved: 'rtl' });
    const members = page.getByRole('region', { name: `Matter ${linked.reference}` }).locator('.matter-member');
    await members.first().waitFor({ timeout: 10_000 });
    // The sandbox's demo user created the matter and is on it by name, which carries its own direction.
    const name = members.locator('.member-name');
    expect(await name.allInnerTexts()).toEqual(['Demo Solicitor (sandbox)']);
    expect(await direction(name)).toEqual({ dir: 'auto', resolved: 'ltr' });
  });

  it('in the conversation: the strip’s tooltip isolates the title, picker options run it right to left, and the client’s name by a message too', async () => {
    await page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: new RegExp(client.name) }).click({ timeout: 10_000 });
    const view = page.getByRole('region', { name: `WhatsApp conversation with ${client.name}` });
    await view.locator('.stream-state[data-state="live"]').waitFor({ timeout: 15_000 });

    const badge = view.locator('.matter-ref', { hasText: linked.reference });
    expect(await badge.getAttribute('title')).toBe(`\u2068${linked.title}\u2069`);

    const sender = view.locator('li.bubble.incoming .sender');
    expect(await sender.innerText()).toBe(client.name);
    expect(await direction(sender)).toEqual({ dir: 'auto', resolved: 'rtl' });

    await view.getByRole('button', { name: 'Link another matter' }).click();
    const picker = view.getByRole('combobox', { name: 'Link to matter' });
    await picker.click();
    await picker.pressSequentially('LEV');
    const option = page.getByRole('option', { name: new RegExp(other.reference) });
    await option.waitFor({ timeout: 10_000 });
    expect(await option.innerText()).toBe(`${other.reference} · ${other.title}`);
    const optionTitle = option.locator('.matter-title');
    expect(await direction(optionTitle)).toEqual({ dir: 'auto', resolved: 'rtl' });
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(artifactsDir, 'teams-rtl-names.png') });
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(world.problems).toEqual([]);
  });
});
