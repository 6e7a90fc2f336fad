import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/a11y.js';
import { waitFor } from '../support/bridge.js';
import { clientSays, conversationOf, startUiWorld, type UiWorld } from '../support/ui-world.js';

/**
 * A search hit opens its conversation at the message found, however far back it is: the view reads
 * older pages until the message is there, shows it in the middle of the list, marked, and gives it
 * the focus. The conversation here has 300 messages; the hit is the first.
 */
describe('opening a search hit in the Teams tab', () => {
  let world: UiWorld;
  let page: Page;
  const dora = { phone: '447700900321', name: 'Dora Lane' };
  const first = 'The landlord now claims dilapidations for the whole of the back wall.';
  const total = 300;

  beforeAll(async () => {
    world = await startUiWorld();
    const start = Date.now() - 3 * 24 * 3600_000;
    await clientSays(world.bridge, { ...dora, text: first, at: new Date(start) });
    // Eight at a time, each a minute after the one before: their order is their times.
    for (let from = 2; from <= total; from += 8) {
      const batch = Array.from({ length: Math.min(8, total - from + 1) }, (_, index) => from + index);
      await Promise.all(batch.map((n) => clientSays(world.bridge, { ...dora, text: `Update ${n} on the works.`, at: new Date(start + n * 60_000) })));
    }
    const conversation = await conversationOf(world.api, dora.phone);
    const newest = async () => (await world.api.listMessages(conversation.id, { limit: 1 })).items[0]?.text;
    await waitFor(async () => (await newest()) === `Update ${total} on the works.`, 20_000, async () => `the newest message is ${await newest()}`);
    page = await world.context.newPage();
    await page.goto(`${world.bridge.url}/teams/index.html?view=personal`);
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('shows the hit in the middle of the list, marked and focused, with the newer messages after it', async () => {
    await page.getByRole('tab', { name: 'Search' }).click({ timeout: 20_000 });
    await page.getByLabel('Words').fill('dilapidations');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hits = page.locator('li.search-hit');
    await expect.poll(() => hits.count(), { timeout: 10_000 }).toBe(1);
    await hits.first().getByRole('button').click();

    const view = page.getByRole('region', { name: 'WhatsApp conversation with Dora Lane' });
    const found = view.locator('li[data-found="true"]');
    await found.waitFor({ timeout: 20_000 });
    expect(await found.locator('.text').innerText()).toBe(first);
    expect(await found.getAttribute('aria-description')).toBe('Found by the search');
    await expect.poll(() => found.evaluate((element) => element === document.activeElement), { timeout: 5_000 }).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    // In view, not at the top or the bottom of a 300-message list.
    const list = view.getByRole('log', { name: 'Messages' });
    const [box, listBox] = [await found.boundingBox(), await list.boundingBox()];
    expect(box!.y).toBeGreaterThanOrEqual(listBox!.y);
    expect(box!.y + box!.height).toBeLessThanOrEqual(listBox!.y + listBox!.height);
    // Every message from the hit to the newest is there, in order, and nothing older is left to read.
    const texts = await view.locator('li.bubble .text').allInnerTexts();
    expect(texts).toHaveLength(total);
    expect(texts[0]).toBe(first);
    expect(texts.at(-1)).toBe(`Update ${total} on the works.`);
    expect(await view.getByRole('button', { name: 'Show older messages' }).count()).toBe(0);
    expect(await view.locator('.seek-state').count()).toBe(0);
    expect(await view.locator('li[data-found]').count()).toBe(1);

    // A message arriving meanwhile does not pull the reader away from the hit.
    const top = await list.evaluate((element) => element.scrollTop);
    await clientSays(world.bridge, { ...dora, text: 'Any news from the landlord?' });
    await view.getByText('Any news from the landlord?').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await list.evaluate((element) => element.scrollTop)).toBe(top);

    expect(await page.locator('.level-announcement').innerText()).toBe('WhatsApp conversation with Dora Lane.');
    // The sandbox's demo user has every role: the conversation's evidence can be exported from here too.
    expect(await page.getByRole('button', { name: 'Export evidence' }).count()).toBe(1);
    await page.getByRole('button', { name: '← Back to results' }).click();
    await expect.poll(() => hits.count(), { timeout: 5_000 }).toBe(1);
    await expect.poll(() => page.locator('.level-announcement').innerText(), { timeout: 5_000 }).toBe('Search. 1 search result.');
  });

  it('opens a conversation from its list at the newest message, with nothing marked', async () => {
    await page.getByRole('tab', { name: 'Matters' }).click();
    await page.getByRole('button', { name: /Not on a matter yet/ }).click({ timeout: 10_000 });
    await page.getByRole('button', { name: /Dora Lane/ }).click({ timeout: 10_000 });
    const view = page.getByRole('region', { name: 'WhatsApp conversation with Dora Lane' });
    const list = view.getByRole('log', { name: 'Messages' });
    await view.getByText('Any news from the landlord?').waitFor({ timeout: 10_000 });
    await expect.poll(() => list.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight), { timeout: 5_000 }).toBeLessThan(2);
    expect(await view.locator('li[data-found]').count()).toBe(0);
    expect(await view.getByRole('button', { name: 'Show older messages' }).count()).toBe(1);
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(world.problems).toEqual([]);
  });
});
