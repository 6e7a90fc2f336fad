import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradientPng } from '../support/png.js';
import { clientSays, startUiWorld, type UiWorld } from '../support/ui-world.js';

/**
 * A conversation opens at its newest message even when that message is a photo, whose height is
 * only known once it has loaded, after the jump to the bottom.
 */
describe('opening a conversation that ends with a photo', () => {
  let world: UiWorld;
  const jane = { phone: '447700900123', name: 'Jane Smith' };

  beforeAll(async () => {
    world = await startUiWorld();
    for (let index = 1; index <= 25; index += 1) await clientSays(world.bridge, { ...jane, text: `Question ${index} about the lease.` });
    const simulator = world.bridge.sandbox!.simulator;
    const photo = gradientPng(600, 900);
    const answer = await simulator.postWebhook(simulator.inboundMessage({ from: jane.phone, name: jane.name, type: 'image', media: simulator.addMedia(photo, 'image/png'), caption: 'The damp patch' }));
    expect(answer.status).toBe(200);
  });

  afterAll(async () => {
    await world?.stop();
  });

  /** Jane's conversation in the Teams tab, reached from the list of conversations on no matter. */
  async function openJane() {
    const page = await world.context.newPage();
    await page.goto(`${world.bridge.url}/teams/index.html?view=personal`);
    await page.getByRole('button', { name: /Not on a matter yet/ }).click({ timeout: 20_000 });
    await page.getByRole('button', { name: /Jane Smith/ }).click({ timeout: 10_000 });
    return { page, view: page.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' }) };
  }

  it('shows the photo at the bottom once it has loaded', async () => {
    const { page, view } = await openJane();
    const image = view.locator('li.bubble.incoming img');
    await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth), { timeout: 20_000 }).toBe(600);
    // The photo's height came after the first jump to the bottom; the list is at the bottom all the same.
    const list = view.getByRole('log', { name: 'Messages' });
    await expect.poll(() => list.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight), { timeout: 5_000 }).toBeLessThan(2);
    expect(await list.evaluate((element) => element.scrollHeight > element.clientHeight)).toBe(true);
    await page.close();
  });

  it('leaves a reader who scrolled up where they are when a message comes, and follows again once they are back at the bottom', async () => {
    const { page, view } = await openJane();
    const list = view.getByRole('log', { name: 'Messages' });
    const fromBottom = () => list.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight);
    await expect.poll(() => view.locator('li.bubble.incoming img').evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth), { timeout: 20_000 }).toBe(600);
    await expect.poll(fromBottom, { timeout: 5_000 }).toBeLessThan(2);

    await list.hover();
    await page.mouse.wheel(0, -600);
    await expect.poll(fromBottom, { timeout: 5_000 }).toBeGreaterThan(400);
    const readingAt = await list.evaluate((element) => element.scrollTop);
    await clientSays(world.bridge, { ...jane, text: 'One more thing about the deposit.' });
    await view.getByText('One more thing about the deposit.').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await list.evaluate((element) => element.scrollTop)).toBe(readingAt);

    await page.mouse.wheel(0, 5_000);
    await expect.poll(fromBottom, { timeout: 5_000 }).toBeLessThan(2);
    await clientSays(world.bridge, { ...jane, text: 'And the inventory.' });
    await view.getByText('And the inventory.').waitFor({ timeout: 10_000 });
    await expect.poll(fromBottom, { timeout: 5_000 }).toBeLessThan(2);
    await page.close();
  });

  it('keeps the keyboard focus in the tab when moving from level to level', async () => {
    const page = await world.context.newPage();
    await page.goto(`${world.bridge.url}/teams/index.html?view=personal`);
    const focused = () => page.evaluate(() => (document.activeElement === document.body ? 'body' : (document.activeElement?.textContent ?? '').trim()));
    const unlinked = page.getByRole('button', { name: /Not on a matter yet/ });
    await unlinked.focus({ timeout: 20_000 });
    const announced = page.locator('.level-announcement');
    expect(await announced.getAttribute('aria-live')).toBe('polite');
    await page.keyboard.press('Enter');
    // The row that had the focus is gone; the new level's first control has it, and a screen
    // reader is told where the user now is.
    await expect.poll(focused, { timeout: 5_000 }).toBe('← Matters');
    await expect.poll(() => announced.innerText(), { timeout: 5_000 }).toBe('Conversations without a matter: 1.');
    await page.keyboard.press('Tab');
    await expect.poll(focused).toMatch(/Jane Smith/);
    await page.keyboard.press('Enter');
    await expect.poll(focused, { timeout: 5_000 }).toBe('← Back to conversations');
    await expect.poll(() => announced.innerText(), { timeout: 5_000 }).toBe('WhatsApp conversation with Jane Smith.');
    await page.keyboard.press('Enter');
    await expect.poll(focused, { timeout: 5_000 }).toBe('← Matters');
    await expect.poll(() => announced.innerText(), { timeout: 5_000 }).toBe('Conversations without a matter: 1.');
    await page.keyboard.press('Enter');
    await expect.poll(() => announced.innerText(), { timeout: 5_000 }).toBe('Matters: none.');
    // The announcement lives outside the level that changes, so it is not read twice or lost.
    expect(await announced.count()).toBe(1);
    await page.close();
  });
});
