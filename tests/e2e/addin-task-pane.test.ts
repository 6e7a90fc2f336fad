import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, contrastOf, conversationContrast, tooFaint, unnamedControls } from '../support/a11y.js';
import { waitFor } from '../support/bridge.js';
import { mirroredHeaders, officeStub } from '../support/office-stub.js';
import { artifactsDir, clientSays, conversationOf, startUiWorld, type UiWorld, taskPaneViewport } from '../support/ui-world.js';

/**
 * The Outlook task pane in headless Chromium against a real sandbox bridge. Only office.js is
 * replaced (by a stub of the documented host calls); everything behind it is real: the bundle the
 * bridge serves, the API, the outbox, the Cloud API simulator as WhatsApp.
 */

describe('Outlook task pane', () => {
  let world: UiWorld;
  let page: Page;
  const jane = { phone: '447700900123', name: 'Jane Smith' };
  const firstText = 'Good morning, did the buyer’s solicitor send the contract? 🏠';
  const replyText = 'Yes, it arrived today 👍 I will call you at 3.';
  const laterText = 'Thank you! Speak at 3 then.';
  let chatId: string;
  let matterRef: string;
  let firstWrote: Date;

  beforeAll(async () => {
    // The simulator posts no delivery statuses by itself: the tests post each one, to see each tick.
    world = await startUiWorld({ WA_BRIDGE_TEMPLATES: 'hearing_update:en_GB' }, { sandboxAutoStatuses: false });
    firstWrote = new Date();
    await clientSays(world.bridge, { ...jane, text: firstText, at: firstWrote });
    const conversation = await conversationOf(world.api, jane.phone);
    chatId = conversation.chatId;
    const matter = await world.api.createMatter({ reference: 'SMI-2026-0042', title: 'Smith: purchase of 4 Elm Road', matterType: 'Conveyancing' });
    matterRef = matter.reference;

    page = await world.context.newPage();
    const subject = `WhatsApp · Jane Smith (+44 7700 900123) [WA ${chatId.slice(0, 6)}]`;
    await page.route('**/addin/office-js/office.js', (route) => route.fulfill({ contentType: 'text/javascript', body: officeStub({ subject, headers: mirroredHeaders(chatId, subject) }) }));
    await page.goto(`${world.bridge.url}/addin/index.html`);
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('finds the conversation from the mail’s X-WhatsApp-Chat-Id header and shows it', async () => {
    const pane = page.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' });
    await pane.waitFor({ timeout: 20_000 });
    await expect.poll(() => pane.locator('li.bubble.incoming .text').allInnerTexts()).toEqual([firstText]);
    expect(await pane.locator('.client-name').innerText()).toBe('Jane Smith');
    expect(await page.getByText('Sandbox', { exact: true }).count()).toBe(1);
    await page.locator('.stream-state[data-state="live"]').waitFor({ timeout: 10_000 });
  });

  it('says until when the 24-hour window is open: a day after the client last wrote', async () => {
    const conversation = await conversationOf(world.api, jane.phone);
    expect(conversation.window.state).toBe('open');
    // WhatsApp timestamps are whole seconds.
    expect(Date.parse(conversation.window.closesAt!)).toBe(Math.floor(firstWrote.getTime() / 1000) * 1000 + 24 * 3600_000);
    // Tomorrow, so shown with its date, in the browser's locale (the test reads it the same way).
    const shown = await page.evaluate((iso) => new Date(iso).toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }), conversation.window.closesAt!);
    expect(await page.locator('.window-state').innerText()).toBe(`WhatsApp window open until ${shown}.`);
    expect(await page.locator('.window-closed').count()).toBe(0);
  });

  it('sends a reply that reaches the client on WhatsApp, emoji intact, and shows its delivery ticks', async () => {
    await page.getByLabel('Reply', { exact: true }).fill(replyText);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await waitFor(() => world.bridge.sandbox!.simulator.sent.length === 1, 15_000, () => `simulator received ${world.bridge.sandbox!.simulator.sent.length} sends`);
    const sent = world.bridge.sandbox!.simulator.sent[0]!;
    expect(sent).toMatchObject({ to: jane.phone, type: 'text' });
    expect(JSON.stringify(sent)).toContain(JSON.stringify(replyText).slice(1, -1));

    // The box is emptied once the bridge has taken the reply, which can come after the send itself
    // when the worker is quick and the browser slow.
    await expect.poll(() => page.getByLabel('Reply', { exact: true }).inputValue(), { timeout: 5_000 }).toBe('');

    // Each status as the phone reports it, through the bridge's signed webhook, and the tick it shows.
    const outgoing = page.locator('li.bubble.outgoing', { hasText: replyText });
    const ticks = outgoing.locator('.ticks');
    await ticks.waitFor({ timeout: 15_000 });
    const simulator = world.bridge.sandbox!.simulator;
    const steps = [
      ['sent', '✓', 'Sent'],
      ['delivered', '✓✓', 'Delivered'],
      ['read', '✓✓', 'Read'],
    ] as const;
    // The Cloud API's acceptance already counts as sent; nothing further shows before the phone says so.
    await outgoing.locator('.ticks[data-status="sent"]').waitFor({ timeout: 15_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await ticks.getAttribute('data-status')).toBe('sent');
    const looks: string[] = [];
    for (const [status, glyph, words] of steps) {
      const answer = await simulator.postWebhook(simulator.statusUpdate({ id: sent.waMessageId, status, recipientId: jane.phone }));
      expect(answer.status).toBe(200);
      await outgoing.locator(`.ticks[data-status="${status}"]`).waitFor({ timeout: 15_000 });
      expect(await ticks.innerText()).toBe(glyph);
      expect(await ticks.getAttribute('aria-label')).toBe(words);
      // Named as an image, a screen reader says the words: the glyphs alone read the same for delivered and read.
      await outgoing.getByRole('img', { name: words, exact: true }).waitFor({ timeout: 5_000 });
      looks.push(await ticks.evaluate((element) => `${getComputedStyle(element).color} ${getComputedStyle(element).fontWeight}`));
    }
    // Read and delivered share a glyph; colour and weight tell them apart on sight.
    expect(looks[2]).not.toBe(looks[1]);
    await page.screenshot({ path: path.join(artifactsDir, 'addin-ticks-read.png') });
  });

  it('links the conversation to a matter and shows the matter reference', async () => {
    expect(await page.locator('.no-matter').innerText()).toBe('not linked');
    // The picker waits behind a button on the "not linked" line, leaving the narrow pane's room to the messages.
    await page.setViewportSize({ width: 320, height: taskPaneViewport.height });
    expect(await page.getByRole('combobox', { name: 'Link to matter' }).count()).toBe(0);
    const strip = page.getByRole('group', { name: 'Matter:' });
    const opener = strip.getByRole('button', { name: 'Link to a matter' });
    const [notLinkedBox, openerBox] = [(await page.locator('.no-matter').boundingBox())!, (await opener.boundingBox())!];
    expect(Math.abs(notLinkedBox.y + notLinkedBox.height / 2 - (openerBox.y + openerBox.height / 2))).toBeLessThan(openerBox.height / 2);
    expect(openerBox.x + openerBox.width).toBeLessThanOrEqual(320);
    // Opened, the focus is in the picker; cancelled, it is back on the button and the picker gone.
    await opener.click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('combobox');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Link to a matter');
    expect(await page.getByRole('combobox', { name: 'Link to matter' }).count()).toBe(0);
    await opener.click();
    // At the narrowest task pane the picker and its button fit: nothing scrolls sideways or hides.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    const linkBox = (await page.getByRole('button', { name: 'Link', exact: true }).boundingBox())!;
    const comboBox = (await page.getByRole('combobox', { name: 'Link to matter' }).boundingBox())!;
    expect(linkBox.x + linkBox.width).toBeLessThanOrEqual(320);
    expect(comboBox.x + comboBox.width <= linkBox.x || comboBox.y + comboBox.height <= linkBox.y).toBe(true);
    await page.setViewportSize(taskPaneViewport);
    const picker = page.getByRole('combobox', { name: 'Link to matter' });
    await picker.click();
    await picker.pressSequentially('SMI');
    const option = page.getByRole('option', { name: /SMI-2026-0042/ });
    await option.waitFor({ timeout: 10_000 }).catch(async (error: unknown) => {
      await page.screenshot({ path: path.join(artifactsDir, 'addin-matter-picker-failure.png') });
      throw error;
    });
    await option.click();
    await page.getByRole('button', { name: 'Link', exact: true }).click();
    await expect.poll(() => page.locator('.matter-ref').allInnerTexts(), { timeout: 10_000 }).toEqual([matterRef]);
    // The Link button is gone: the focus is on the matters it linked, not lost to the page, and the change is said.
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest('section[aria-label="Matters"]') !== null)).toBe(true);
    expect(await page.getByRole('group', { name: 'Matter:' }).evaluate((strip) => strip === document.activeElement)).toBe(true);
    expect(await page.locator('section[aria-label="Matters"]').getByRole('status').innerText()).toBe(`Linked to ${matterRef}.`);
    // A list holds only its items; "Matter:" names it from outside.
    expect(await page.locator('section[aria-label="Matters"] ul > :not(li)').count()).toBe(0);
    expect(await page.getByRole('list', { name: 'Matter:' }).getByRole('listitem').count()).toBe(1);

    const conversation = await conversationOf(world.api, jane.phone);
    expect(conversation.matters.map((link) => link.reference)).toEqual([matterRef]);
  });

  it('says how long the conversation is kept, and shows a legal hold on its matter as soon as it is placed', async () => {
    const strip = page.getByRole('region', { name: 'Retention' });
    await expect.poll(() => strip.locator('.retention-period').innerText(), { timeout: 10_000 }).toBe(`Kept while matter ${matterRef} is open, then for that matter's retention period.`);
    expect(await strip.locator('.legal-hold').count()).toBe(0);
    const matter = (await world.api.listMatters({ q: matterRef })).items[0]!;
    const hold = await world.api.placeHold({ matterId: matter.id, reason: 'Buyer disputes the deposit' });
    // Told over the live stream: the pane shows it without a reload.
    await expect.poll(() => strip.locator(`[data-hold="${hold.id}"]`).count(), { timeout: 10_000 }).toBe(1);
    expect(await strip.locator('.retention-period').innerText()).toBe('Kept, whatever its age, while a legal hold is in force.');
    expect(await strip.locator('.legal-hold').innerText()).toContain(`Buyer disputes the deposit\nOn matter ${matterRef}, placed`);
    // At the narrowest task pane the hold and its buttons fit: nothing scrolls sideways.
    await page.setViewportSize({ width: 320, height: taskPaneViewport.height });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(artifactsDir, 'addin-legal-hold.png') });
    await page.setViewportSize(taskPaneViewport);
    await world.api.releaseHold(hold.id, { reason: 'Deposit dispute settled' });
    await expect.poll(() => strip.locator('.legal-hold').count(), { timeout: 10_000 }).toBe(0);
    expect(await strip.locator('.retention-period').innerText()).toBe(`Kept while matter ${matterRef} is open, then for that matter's retention period.`);
  });

  it('unlinks a matter from the keyboard, keeps the focus in the matters and says what changed', async () => {
    await page.getByRole('button', { name: `Unlink ${matterRef}` }).focus();
    await page.keyboard.press('Enter');
    await page.locator('.no-matter').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.getAttribute('role'))).toBe('group');
    expect(await page.getByRole('group', { name: 'Matter:' }).evaluate((strip) => strip === document.activeElement)).toBe(true);
    expect(await page.locator('section[aria-label="Matters"]').getByRole('status').innerText()).toBe(`Unlinked from ${matterRef}.`);
    expect((await conversationOf(world.api, jane.phone)).matters).toEqual([]);

    // Linked again, for the views that follow.
    await page.getByRole('button', { name: 'Link to a matter' }).click();
    const picker = page.getByRole('combobox', { name: 'Link to matter' });
    await picker.click();
    await picker.pressSequentially('SMI');
    await page.getByRole('option', { name: /SMI-2026-0042/ }).click({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Link', exact: true }).click();
    await expect.poll(() => page.locator('.matter-ref').allInnerTexts(), { timeout: 10_000 }).toEqual([matterRef]);
  });

  it('shows a new client message live, without reloading, with the reply it quotes', async () => {
    const marker = await page.evaluate(() => ((window as unknown as { marker: number }).marker = Math.random()));
    await clientSays(world.bridge, { ...jane, text: laterText, quoting: world.bridge.sandbox!.simulator.sent[0]!.waMessageId });
    await expect.poll(() => page.locator('li.bubble.incoming .text').allInnerTexts(), { timeout: 15_000 }).toEqual([firstText, laterText]);
    expect(await page.locator('li.bubble.incoming', { hasText: laterText }).locator('blockquote.quote').innerText()).toContain(replyText);
    // Each text takes its own direction: an Arabic message runs right to left.
    expect(await page.locator('li.bubble .text').evaluateAll((spans) => spans.every((span) => span.getAttribute('dir') === 'auto'))).toBe(true);
    expect(await page.locator('blockquote.quote div').first().getAttribute('dir')).toBe('auto');
    expect(await page.locator('.client-name').getAttribute('dir')).toBe('auto');
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(marker);
    await page.screenshot({ path: path.join(artifactsDir, 'addin-task-pane.png'), fullPage: true });
  });

  it('shows media previews and downloads, reactions, edits and deletions as the client made them', async () => {
    const simulator = world.bridge.sandbox!.simulator;
    const png = readFileSync(path.join(import.meta.dirname, '../../addin/public/icons/icon-64.png'));
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const post = async (content: Parameters<typeof simulator.inboundMessage>[0]) => {
      const answer = await simulator.postWebhook(simulator.inboundMessage(content));
      expect(answer.status).toBe(200);
    };
    const sender = { from: jane.phone, name: jane.name };
    await post({ ...sender, type: 'image', media: simulator.addMedia(png, 'image/png'), caption: 'Photo of the damp patch' });
    await post({ ...sender, type: 'document', media: simulator.addMedia(pdf, 'application/pdf'), filename: 'survey.pdf' });
    const typo = await clientSays(world.bridge, { ...jane, text: 'See you at 4.' });
    const mistake = await clientSays(world.bridge, { ...jane, text: 'Wrong chat, sorry.' });
    await post({ ...sender, type: 'edit', originalMessageId: typo, body: 'See you at 3.' });
    await post({ ...sender, type: 'revoke', originalMessageId: mistake });
    await post({ ...sender, type: 'reaction', messageId: world.bridge.sandbox!.simulator.sent[0]!.waMessageId, emoji: '👍' });

    const image = page.locator('li.bubble.incoming img');
    await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth), { timeout: 20_000 }).toBe(64);
    expect(await image.getAttribute('src')).toMatch(/^blob:/);
    await page.getByRole('button', { name: 'Download survey.pdf' }).waitFor({ timeout: 20_000 });
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download survey.pdf' }).click();
    expect((await download).suggestedFilename()).toBe('survey.pdf');

    await page.locator('li.bubble', { hasText: 'See you at 4.' }).locator('.edited').waitFor({ timeout: 15_000 });
    expect(await page.locator('li.bubble[data-kind="edit"] .text').allInnerTexts()).toEqual(['See you at 3.']);
    await page.locator('li.bubble', { hasText: 'Wrong chat, sorry.' }).locator('.deleted').waitFor({ timeout: 15_000 });
    expect(await page.locator('li[data-kind="deletion"]').count()).toBe(1);
    await expect.poll(() => page.locator('li.bubble.outgoing', { hasText: replyText }).getByLabel('Reactions').innerText(), { timeout: 15_000 }).toContain('👍');
    await page.screenshot({ path: path.join(artifactsDir, 'addin-media-edits.png'), fullPage: true });
  });

  it("works from the keyboard: every control is named, axe-core's WCAG 2.1 AA checks pass, and Ctrl+Enter sends", async () => {
    const { count, unnamed } = await unnamedControls(page);
    expect(count).toBeGreaterThan(6);
    expect(unnamed).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);

    const before = world.bridge.sandbox!.simulator.sent.length;
    await page.getByLabel('Reply', { exact: true }).focus();
    await page.keyboard.type('Sent from the keyboard.');
    // The character count is shown, not read out on every key; the spoken note stays empty far from the limit.
    expect(await page.locator('[aria-live]').evaluateAll((regions) => regions.map((region) => region.textContent ?? '').filter((text) => /\d+\/4096/.test(text)))).toEqual([]);
    expect(await page.locator('.limit-note').textContent()).toBe('');
    await page.keyboard.press('Control+Enter');
    await waitFor(() => world.bridge.sandbox!.simulator.sent.length === before + 1, 15_000, () => 'the keyboard reply never reached the simulator');
    expect(JSON.stringify(world.bridge.sandbox!.simulator.sent.at(-1))).toContain('Sent from the keyboard.');
  });

  it('sends a file with a caption, and the client receives the same bytes', async () => {
    const before = world.bridge.sandbox!.simulator.sent.length;
    const bytes = Buffer.from('%PDF-1.4\nCompletion statement for 4 Elm Road\n%%EOF\n');
    await page.getByLabel('Attach files').setInputFiles({ name: 'completion statement.pdf', mimeType: 'application/pdf', buffer: bytes });
    await page.getByRole('list', { name: 'Attachments' }).getByText(/completion statement\.pdf/).waitFor();
    await page.getByLabel('Reply', { exact: true }).fill('The completion statement, as promised.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await waitFor(() => world.bridge.sandbox!.simulator.sent.length > before, 15_000, () => 'the file never reached the simulator');
    const sent = world.bridge.sandbox!.simulator.sent.slice(before);
    const document = sent.find((request) => request.type === 'document');
    expect(document, JSON.stringify(sent)).toBeDefined();
    const mediaId = JSON.stringify(document).match(/"id":"([^"]+)"/)?.[1];
    expect(world.bridge.sandbox!.simulator.mediaById(mediaId!)?.bytes.equals(bytes)).toBe(true);
    expect(JSON.stringify(sent)).toContain('The completion statement, as promised.');
  });

  it('quotes the message a reply answers: WhatsApp gets it as a reply to that message, and the pane shows the quote', async () => {
    const answered = page.locator('li.bubble.incoming', { hasText: laterText });
    const answeredId = await answered.getAttribute('data-wa-id');
    const quoteBox = page.locator('.reply-quote');
    const replyBox = page.getByLabel('Reply', { exact: true });
    const choose = () => answered.getByRole('button', { name: /^Reply to this message from Jane Smith, / }).click();

    await choose();
    await quoteBox.waitFor({ timeout: 5_000 });
    expect(await quoteBox.innerText()).toContain('Replying to Jane Smith');
    expect(await quoteBox.locator('.reply-quote-text').innerText()).toBe(laterText);
    // The reply box has the focus, ready for the answer.
    await expect.poll(() => replyBox.evaluate((element) => element === document.activeElement), { timeout: 5_000 }).toBe(true);
    // Changed their mind: the quote goes, and comes back when chosen again.
    await page.getByRole('button', { name: 'Do not quote this message' }).click();
    await expect.poll(() => quoteBox.count(), { timeout: 5_000 }).toBe(0);
    await choose();
    await quoteBox.waitFor({ timeout: 5_000 });
    await page.screenshot({ path: path.join(artifactsDir, 'addin-quote.png') });

    const before = world.bridge.sandbox!.simulator.sent.length;
    const answer = 'Yes, 3 o’clock suits me. Speak then.';
    await replyBox.fill(answer);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await waitFor(() => world.bridge.sandbox!.simulator.sent.length === before + 1, 15_000, () => 'the quoting reply never reached the simulator');
    const sent = world.bridge.sandbox!.simulator.sent.at(-1)!;
    expect(sent).toMatchObject({ type: 'text', body: { context: { message_id: answeredId } } });
    await expect.poll(() => quoteBox.count(), { timeout: 5_000 }).toBe(0);
    // The pane shows the reply with what it quotes, as WhatsApp shows it to the client.
    const reply = page.locator('li.bubble.outgoing', { hasText: answer });
    await expect.poll(() => reply.locator('blockquote.quote').innerText(), { timeout: 15_000 }).toContain(laterText);
  });

  it('leads from a quote to the message it quotes', async () => {
    const quoting = page.locator('li.bubble.incoming', { hasText: laterText });
    await quoting.getByRole('button', { name: /^Show the quoted message: Demo Solicitor \(sandbox\)/ }).click();
    const marked = page.locator('li[data-found="true"]');
    await expect.poll(() => marked.locator('.text').innerText(), { timeout: 10_000 }).toBe(replyText);
    expect(await marked.getAttribute('aria-description')).toBe('The quoted message');
    await expect.poll(() => marked.evaluate((element) => element === document.activeElement), { timeout: 5_000 }).toBe(true);
    expect(await page.locator('li[data-found]').count()).toBe(1);
  });

  it('follows a pinned pane to a mail that did not come from WhatsApp', async () => {
    await page.evaluate(() => (window as unknown as { __office: { selectMail(mail: object): void } }).__office.selectMail({ subject: 'Completion statement', headers: 'Subject: Completion statement\r\nFrom: accounts@firm.test\r\n' }));
    await page.getByText('Not a WhatsApp mail').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(artifactsDir, 'addin-not-whatsapp.png') });
  });

  it('offers only templates once the 24-hour window has closed, says when it closed, and sends one', async () => {
    const lastWrote = new Date(Date.now() - 30 * 3600_000);
    await clientSays(world.bridge, { phone: '447700900789', name: 'Priya Patel', text: 'Please call me about the will.', at: lastWrote });
    const priya = await conversationOf(world.api, '447700900789');
    expect(priya.window.state).toBe('closed');
    const subject = 'WhatsApp · Priya Patel';
    await page.evaluate((mail) => (window as unknown as { __office: { selectMail(mail: object): void } }).__office.selectMail(mail), { subject, headers: mirroredHeaders(priya.chatId, subject) });
    await page.getByRole('region', { name: 'WhatsApp conversation with Priya Patel' }).waitFor({ timeout: 10_000 });
    const closedNote = await page.locator('.window-closed').innerText();
    expect(closedNote).toMatch(/The 24-hour window closed at .+WhatsApp only accepts an approved template/);
    expect(await page.getByLabel('Reply', { exact: true }).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);

    const before = world.bridge.sandbox!.simulator.sent.length;
    await page.getByLabel('Template').selectOption({ label: 'hearing_update (en_GB)' });
    await page.getByRole('button', { name: 'Send template' }).click();
    await waitFor(() => world.bridge.sandbox!.simulator.sent.length === before + 1, 15_000, () => `simulator received ${world.bridge.sandbox!.simulator.sent.length} sends`);
    expect(world.bridge.sandbox!.simulator.sent.at(-1)).toMatchObject({ to: '447700900789', type: 'template' });
    await page.screenshot({ path: path.join(artifactsDir, 'addin-window-closed.png') });
  });

  it('shows the newest fifty messages first and older ones on request', async () => {
    const sam = { phone: '447700900555', name: 'Sam Green' };
    const start = Date.now() - 3600_000;
    for (let n = 1; n <= 55; n += 1) await clientSays(world.bridge, { ...sam, text: `Note ${n}`, at: new Date(start + n * 1000) });
    const conversation = await conversationOf(world.api, sam.phone);
    await expect.poll(async () => (await world.api.listMessages(conversation.id, { limit: 200 })).items.length, { timeout: 20_000 }).toBe(55);
    const subject = 'WhatsApp · Sam Green';
    await page.evaluate((mail) => (window as unknown as { __office: { selectMail(mail: object): void } }).__office.selectMail(mail), { subject, headers: mirroredHeaders(conversation.chatId, subject) });
    const bubbles = page.getByRole('region', { name: 'WhatsApp conversation with Sam Green' }).locator('li.bubble.incoming .text');
    await expect.poll(() => bubbles.allInnerTexts(), { timeout: 10_000 }).toEqual(Array.from({ length: 50 }, (_, index) => `Note ${index + 6}`));
    await page.getByRole('button', { name: 'Show older messages' }).click();
    await expect.poll(() => bubbles.allInnerTexts(), { timeout: 10_000 }).toEqual(Array.from({ length: 55 }, (_, index) => `Note ${index + 1}`));
    expect(await page.getByRole('button', { name: 'Show older messages' }).count()).toBe(0);
  });

  it("opens at the message of the mail open in Outlook, reading older pages for it, and moves with the next mail", async () => {
    const conversation = await conversationOf(world.api, '447700900555');
    const items = (await world.api.listMessages(conversation.id, { limit: 200 })).items;
    const idOf = (text: string) => items.find((item) => item.text === text)!.waMessageId;
    const subject = 'WhatsApp · Sam Green';
    const select = (waMessageId: string) =>
      page.evaluate((mail) => (window as unknown as { __office: { selectMail(mail: object): void } }).__office.selectMail(mail), { subject, headers: mirroredHeaders(conversation.chatId, subject, waMessageId) });
    const view = page.getByRole('region', { name: 'WhatsApp conversation with Sam Green' });
    const list = view.getByRole('log', { name: 'Messages' });
    const marked = view.locator('li[data-found="true"]');

    // Note 3 is older than the newest fifty: the pane reads the page before them to show it.
    await select(idOf('Note 3'));
    await expect.poll(() => marked.locator('.text').innerText(), { timeout: 10_000 }).toBe('Note 3');
    expect(await marked.getAttribute('aria-description')).toBe('The message of this mail');
    await expect.poll(() => marked.evaluate((element) => element === document.activeElement), { timeout: 5_000 }).toBe(true);
    const [box, listBox] = [await marked.boundingBox(), await list.boundingBox()];
    expect(box!.y).toBeGreaterThanOrEqual(listBox!.y);
    expect(box!.y + box!.height).toBeLessThanOrEqual(listBox!.y + listBox!.height);
    expect(await view.locator('li.bubble.incoming .text').count()).toBe(55);

    // The newest mail: its message is the last, and the list is at the bottom.
    await select(idOf('Note 55'));
    await expect.poll(() => marked.locator('.text').innerText(), { timeout: 10_000 }).toBe('Note 55');
    await expect.poll(() => list.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight), { timeout: 5_000 }).toBeLessThan(2);
    expect(await view.locator('li[data-found]').count()).toBe(1);
  });

  it('searches this conversation only and opens it at the message chosen, reading older pages for it', async () => {
    const view = page.getByRole('region', { name: 'WhatsApp conversation with Sam Green' });
    const marked = view.locator('li[data-found="true"]');
    const count = view.locator('.search-count');
    const hits = view.locator('li.search-hit');
    const hit = (text: string) => hits.filter({ has: page.locator('.snippet', { hasText: new RegExp(`^${text}$`) }) });
    const find = async (words: string) => {
      await view.getByLabel('Words to find in this conversation').fill(words);
      await view.getByRole('button', { name: 'Find', exact: true }).click();
    };

    await view.getByRole('button', { name: 'Search this conversation' }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Words to find in this conversation');

    // Jane's conversation says "contract"; this one does not.
    await find('contract');
    await expect.poll(() => count.innerText(), { timeout: 10_000 }).toBe('No messages match “contract”.');
    expect(await hits.count()).toBe(0);

    // Twenty at a time: all 55 notes match.
    await find('Note');
    await expect.poll(() => count.innerText(), { timeout: 10_000 }).toBe('20+ messages match “Note”.');
    expect(await hits.count()).toBe(20);
    await view.getByRole('button', { name: 'More results' }).click();
    await expect.poll(() => hits.count(), { timeout: 10_000 }).toBe(40);

    // "4" as the start of a word: Note 4 and Note 40 – 49, the matching words marked.
    await find('4');
    await expect.poll(() => count.innerText(), { timeout: 10_000 }).toBe('11 messages match “4”.');
    expect(new Set(await hits.locator('mark').allInnerTexts())).toEqual(new Set(['4', '40', '41', '42', '43', '44', '45', '46', '47', '48', '49']));
    // At the narrowest pane the words, the buttons and the hits fit: nothing scrolls sideways.
    await page.setViewportSize({ width: 320, height: taskPaneViewport.height });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    for (const control of [view.getByLabel('Words to find in this conversation'), view.getByRole('button', { name: 'Find', exact: true }), view.getByRole('button', { name: 'Close', exact: true })]) {
      const box = (await control.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(320);
    }
    await page.screenshot({ path: path.join(artifactsDir, 'addin-search.png') });
    await page.setViewportSize(taskPaneViewport);

    // Note 4 is older than the newest fifty the pane shows: it reads back for it.
    await hit('Note 4').getByRole('button').click();
    await expect.poll(() => marked.locator('.text').innerText(), { timeout: 10_000 }).toBe('Note 4');
    expect(await marked.getAttribute('aria-description')).toBe('Found by the search');
    await expect.poll(() => marked.evaluate((element) => element === document.activeElement), { timeout: 5_000 }).toBe(true);
    expect(await hits.count()).toBe(0);

    // Back to the results, and on to another hit: the mark moves with it.
    await view.getByRole('button', { name: 'Back to results' }).click();
    await hit('Note 47').getByRole('button').click();
    await expect.poll(() => marked.locator('.text').innerText(), { timeout: 10_000 }).toBe('Note 47');
    expect(await view.locator('li[data-found]').count()).toBe(1);

    // Escape in the words ends the search.
    await view.getByRole('button', { name: 'Back to results' }).click();
    await view.getByLabel('Words to find in this conversation').press('Escape');
    await view.getByRole('button', { name: 'Search this conversation' }).waitFor({ timeout: 5_000 });
    expect(await view.getByRole('search').count()).toBe(0);
  });

  it('outside Outlook, with the real office.js, says so, and the sandbox offers a preview', async () => {
    const plain = await world.context.newPage();
    await plain.goto(`${world.bridge.url}/addin/index.html`);
    await plain.getByText('Not running inside Outlook').waitFor({ timeout: 10_000 });
    await plain.setViewportSize({ width: 320, height: taskPaneViewport.height });
    // Its picker fits the narrowest pane, however long the first option reads.
    expect(await plain.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await plain.getByLabel('Conversation (sandbox preview)').selectOption({ label: 'Jane Smith' });
    await plain.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' }).locator('li.bubble.incoming .text', { hasText: firstText }).waitFor({ timeout: 10_000 });
    await plain.close();
  });

  it('is readable in light and dark Outlook: text, banner, timestamps and ticks stand out from their background', async () => {
    for (const [theme, bodyBackgroundColor] of [
      ['light', '#ffffff'],
      ['dark', '#1f1f1f'],
    ] as const) {
      const pane = await world.context.newPage();
      const subject = 'WhatsApp · Jane Smith';
      await pane.route('**/addin/office-js/office.js', (route) => route.fulfill({ contentType: 'text/javascript', body: officeStub({ subject, headers: mirroredHeaders(chatId, subject) }, { bodyBackgroundColor }) }));
      await pane.goto(`${world.bridge.url}/addin/index.html`);
      await pane.getByRole('region', { name: 'WhatsApp conversation with Jane Smith' }).locator('.ticks[data-status="read"]').first().waitFor({ timeout: 20_000 });
      const banner = pane.locator('.fui-MessageBar:has-text("Sandbox demo user")');
      const readings = [
        ...(await conversationContrast(pane)),
        ...(await contrastOf(banner.locator('.fui-MessageBarTitle'), 'sandbox banner title')),
        ...(await contrastOf(banner.locator('.fui-MessageBarBody'), 'sandbox banner')),
      ];
      expect(readings.map((reading) => reading.what.split(':')[0])).toEqual(expect.arrayContaining(['client text', 'firm text', 'timestamp', 'delivery ticks', 'sandbox banner']));
      expect(tooFaint(readings), theme).toEqual([]);
      await pane.screenshot({ path: path.join(artifactsDir, `addin-contrast-${theme}.png`) });
      await pane.close();
    }
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(world.problems).toEqual([]);
  });
});
