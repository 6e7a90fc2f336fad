import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundMessageInput } from '../../bridge-server/src/channels/simulator/builders.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { axeViolations } from '../support/a11y.js';
import { launchChromium } from '../support/browser.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';

/**
 * The mirrored mails as the people who read them get them: each relayed mail's HTML part, from the
 * real MIME, opened on its own in headless Chromium and checked with axe (WCAG 2.1 A and AA), for a
 * chat with one message of every kind. In the sandbox and the mail clients the HTML sits in a
 * frame, where the checks of the views around it cannot look.
 */
describe('mirrored mail HTML, checked for accessibility', () => {
  let catcher: MailCatcher;
  let world: BridgeWorld;
  let browser: Browser;
  const sent: string[] = [];

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitors@firm.test' });
    browser = await launchChromium();
    const sim = world.simulator;
    const client = { from: '447700900441', name: 'Layla Haddad ليلى' };
    const up = (bytes: number, mime: string) => sim.addMedia(randomBytes(bytes), mime);
    const messages: InboundMessageInput[] = [
      { ...client, type: 'text', body: 'Good morning. Is the completion date still the 14th?\nI have the keys ready.' },
      { ...client, type: 'image', media: up(6_000, 'image/jpeg'), caption: 'Photo of the damp in the hall' },
      { ...client, type: 'document', media: up(9_000, 'application/pdf'), filename: 'Lease – 14 High St.pdf', caption: 'Signed lease' },
      { ...client, type: 'audio', media: up(4_000, 'audio/ogg'), voice: true },
      { ...client, type: 'location', latitude: 51.5072, longitude: -0.1276, placeName: 'Court', address: 'Strand, London' },
      { ...client, type: 'contacts', contacts: [{ name: { formatted_name: 'Ann Other', first_name: 'Ann' }, phones: [{ phone: '+44 7700 900999', type: 'CELL' }] }] },
      { ...client, type: 'button_reply', replyId: 'confirm-1', title: 'Yes, confirm' },
      { ...client, type: 'unsupported', unsupportedType: 'poll' },
    ];
    for (const message of messages) {
      const envelope = sim.inboundMessage(message);
      sent.push((envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id);
      expect((await sim.postWebhook(envelope)).status).toBe(200);
    }
    // A reply that quotes the first message, and a reaction to it.
    const quoting = sim.inboundMessage({ ...client, type: 'text', body: 'Sorry, I meant the 15th.', context: { id: sent[0]!, from: client.from } });
    expect((await sim.postWebhook(quoting)).status).toBe(200);
    expect((await sim.postWebhook(sim.inboundMessage({ ...client, type: 'reaction', messageId: sent[0]!, emoji: '👍' }))).status).toBe(200);
    // An edit of the first message and the photo deleted for everyone.
    expect((await sim.postWebhook(sim.inboundMessage({ ...client, type: 'edit', originalMessageId: sent[0]!, body: 'Good morning. Is completion still on the 15th?' }))).status).toBe(200);
    expect((await sim.postWebhook(sim.inboundMessage({ ...client, type: 'revoke', originalMessageId: sent[1]! }))).status).toBe(200);
    // The chat's cover mail and one mail per message.
    await waitFor(() => catcher.mails().length >= messages.length + 5, 20_000, () => `${catcher.mails().length} mails`);
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    await catcher?.stop();
  });

  it('breaks no WCAG 2.1 A or AA rule in any of them, and says what language it is in', async () => {
    const mails = catcher.mails();
    expect(mails.length).toBe(13);
    const context = await browser.newContext({ viewport: { width: 720, height: 900 } });
    // The mails load nothing from outside: a request anywhere would show here.
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const found: Record<string, string[]> = {};
    for (const mail of mails) {
      const parsed = await simpleParser(mail.raw);
      expect(parsed.html, parsed.subject).toBeTruthy();
      await page.setContent(parsed.html as string, { waitUntil: 'load' });
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      expect(await page.title()).toBe(parsed.subject);
      const violations = await axeViolations(page);
      if (violations.length > 0) found[`mail ${mails.indexOf(mail) + 1} (${String(parsed.headers.get('x-whatsapp-event') ?? 'cover')} ${String(parsed.headers.get('x-whatsapp-type') ?? '')})`] = violations;
    }
    expect(found).toEqual({});
    expect(requests).toEqual([]);
    await context.close();
  });
});
