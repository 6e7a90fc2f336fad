import path from 'node:path';
import type { InboundContent } from '../../bridge-server/src/channels/simulator/builders.js';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, contrastOf, tooFaint } from '../support/a11y.js';
import { mirroredHeaders, officeStub } from '../support/office-stub.js';
import { artifactsDir, conversationOf, startUiWorld, type UiWorld } from '../support/ui-world.js';

/**
 * A location and contact cards the client shared, as the Outlook task pane shows them: cards with
 * a map link the bridge built, phone and e-mail links, and the links the client typed as text
 * only. The pane runs at its narrowest, 320 px, in headless Chromium against a sandbox bridge;
 * the client writes through the Cloud API simulator's signed webhooks.
 */

describe('shared locations and contacts in the conversation', () => {
  let world: UiWorld;
  let page: Page;
  const jane = { phone: '447700900654', name: 'Jane Smith' };
  const place = {
    latitude: 51.5111,
    longitude: -0.1139,
    placeName: 'مكتب المحاماة في لندن',
    address: '1 Temple Place, Victoria Embankment, London WC2R 3BD, United Kingdom: the entrance on Surrey Street, second floor, ask at reception',
    // Typed by the client: one long word, which must wrap and must not become a link.
    url: `https://maps.example.net/directions/${'temple-place-'.repeat(12)}end`,
  };
  const raj = {
    name: { formatted_name: 'Raj Patel' },
    phones: [
      { phone: '+44 7700 900456', wa_id: '447700900456', type: 'CELL' },
      { phone: '020 7946 0018', type: 'WORK' },
    ],
    emails: [{ email: 'raj.patel@example.co.uk', type: 'WORK' }],
    urls: [{ url: 'https://raj-patel-surveyors.example.com/login', type: 'WORK' }],
    org: { company: 'Patel Surveyors', title: 'Chartered surveyor' },
  };
  const paneOf = () => page.getByRole('region', { name: `WhatsApp conversation with ${jane.name}` });
  const bubbleOf = (waMessageId: string) => paneOf().locator(`li.bubble[data-wa-id="${waMessageId}"]`);
  const hrefs = (scope: Locator) => scope.locator('a[href]').evaluateAll((links) => links.map((link) => link.getAttribute('href')));
  const direction = (locator: Locator) => locator.evaluate((element) => ({ dir: element.getAttribute('dir'), resolved: getComputedStyle(element).direction }));
  let locationId: string;
  let pinId: string;
  let contactsId: string;

  /** A message from Jane through the simulator's signed webhook; returns its WhatsApp id. */
  async function janeSends(content: InboundContent): Promise<string> {
    const simulator = world.bridge.sandbox!.simulator;
    const envelope = simulator.inboundMessage({ ...content, from: jane.phone, name: jane.name });
    const message = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!;
    const answer = await simulator.postWebhook(envelope);
    expect(answer.status).toBe(200);
    return message.id;
  }

  beforeAll(async () => {
    world = await startUiWorld();
    locationId = await janeSends({ type: 'location', ...place });
    pinId = await janeSends({ type: 'location', latitude: -33.8568, longitude: 151.2153 });
    contactsId = await janeSends({ type: 'contacts', contacts: [raj, { name: { formatted_name: 'Amy' }, phones: [{ phone: '+44 7700 900789' }] }] });
    const conversation = await conversationOf(world.api, jane.phone);

    page = await world.context.newPage();
    await page.setViewportSize({ width: 320, height: 760 });
    const subject = `WhatsApp · ${jane.name}`;
    await page.route('**/addin/office-js/office.js', (route) => route.fulfill({ contentType: 'text/javascript', body: officeStub({ subject, headers: mirroredHeaders(conversation.chatId, subject) }) }));
    await page.goto(`${world.bridge.url}/addin/index.html`);
    await paneOf().locator('.stream-state[data-state="live"]').waitFor({ timeout: 20_000 });
    await bubbleOf(contactsId).waitFor({ timeout: 15_000 });
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('shows a location as a card: name and address as sent, the coordinates, and a map link opening in a new window', async () => {
    const bubble = bubbleOf(locationId);
    const card = bubble.getByRole('group', { name: `Location: ${place.placeName}` });
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator('.location-name').innerText()).toBe(place.placeName);
    // The place's name is not the sender's: the bubble is still Jane's.
    expect(await bubble.locator('.sender').innerText()).toBe(jane.name);
    expect(await direction(card.locator('.location-name'))).toEqual({ dir: 'auto', resolved: 'rtl' });
    expect(await card.locator('.location-address').innerText()).toBe(place.address);
    expect(await direction(card.locator('.location-address'))).toEqual({ dir: 'auto', resolved: 'ltr' });
    expect(await card.locator('.location-coordinates').innerText()).toBe('51.5111, -0.1139');

    const map = card.getByRole('link', { name: 'Open map' });
    expect(await map.getAttribute('href')).toBe('https://www.google.com/maps?q=51.5111,-0.1139');
    expect(await map.getAttribute('target')).toBe('_blank');
    expect((await map.getAttribute('rel'))?.split(/\s+/)).toEqual(expect.arrayContaining(['noopener', 'noreferrer']));

    // The client's own link is there to read, not to click: the map is the bubble's only link.
    expect(await card.locator('.client-url').innerText()).toBe(`Link sent: ${place.url}`);
    expect(await hrefs(bubble)).toEqual(['https://www.google.com/maps?q=51.5111,-0.1139']);
    // The card replaces the plain-text rendering of the location.
    expect(await bubble.locator('.text').count()).toBe(0);
  });

  it('shows a bare pin with its coordinates and map link only', async () => {
    const bubble = bubbleOf(pinId);
    const card = bubble.getByRole('group', { name: 'Location', exact: true });
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator('.location-name, .location-address, .client-url').count()).toBe(0);
    expect(await card.locator('.location-coordinates').innerText()).toBe('-33.8568, 151.2153');
    expect(await hrefs(bubble)).toEqual(['https://www.google.com/maps?q=-33.8568,151.2153']);
  });

  it('shows each shared contact as a card: phones to call, an address to write to, and its link as text', async () => {
    const bubble = bubbleOf(contactsId);
    const card = bubble.getByRole('group', { name: 'Contact: Raj Patel' });
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator('.contact-name').innerText()).toBe('Raj Patel');
    expect(await card.locator('.contact-name').getAttribute('dir')).toBe('auto');
    expect(await card.locator('.contact-organisation').innerText()).toBe('Chartered surveyor, Patel Surveyors');

    const phones = card.locator('.contact-phone a[href]');
    expect(await phones.allInnerTexts()).toEqual(['+44 7700 900456', '020 7946 0018']);
    expect(await hrefs(card.locator('.contact-phone'))).toEqual(['tel:+447700900456', 'tel:02079460018']);
    const email = card.getByRole('link', { name: 'raj.patel@example.co.uk' });
    expect(await email.getAttribute('href')).toBe('mailto:raj.patel@example.co.uk');

    expect(await card.locator('.client-url').innerText()).toBe('Link sent: https://raj-patel-surveyors.example.com/login');
    expect(await hrefs(card)).toEqual(['tel:+447700900456', 'tel:02079460018', 'mailto:raj.patel@example.co.uk']);

    const amy = bubble.getByRole('group', { name: 'Contact: Amy' });
    expect(await hrefs(amy)).toEqual(['tel:+447700900789']);
    expect(await bubble.getByRole('group').count()).toBe(2);
    expect(await bubble.locator('.text').count()).toBe(0);
  });

  it('fits the 320 px pane: long addresses and links wrap, nothing scrolls sideways, and the cards read clearly', async () => {
    const list = paneOf().getByRole('log', { name: 'Messages' });
    const overflow = await list.evaluate((element) => element.scrollWidth - element.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    // Each card stays inside its bubble.
    for (const id of [locationId, contactsId]) {
      const widths = await bubbleOf(id).evaluate((row) => {
        const bubble = row.firstElementChild as HTMLElement;
        return { bubble: bubble.getBoundingClientRect().right, cards: [...bubble.querySelectorAll('[role="group"]')].map((card) => card.getBoundingClientRect().right) };
      });
      for (const right of widths.cards) expect(right).toBeLessThanOrEqual(widths.bubble);
    }
    // Every link says what it does or where it goes.
    expect(await paneOf().locator('.shared-location a, .shared-contact a').evaluateAll((links) => links.filter((link) => (link.textContent ?? '').trim() === '').length)).toBe(0);
    const readings = [
      ...(await contrastOf(paneOf().locator('.shared-location'), 'location card')),
      ...(await contrastOf(paneOf().locator('.shared-contact'), 'contact card')),
    ];
    expect(readings.length).toBeGreaterThan(10);
    expect(tooFaint(readings)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await bubbleOf(locationId).screenshot({ path: path.join(artifactsDir, 'addin-shared-location.png') });
    await bubbleOf(contactsId).screenshot({ path: path.join(artifactsDir, 'addin-shared-contacts.png') });
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(world.problems).toEqual([]);
  });
});
