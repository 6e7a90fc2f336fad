import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/a11y.js';
import { waitFor } from '../support/bridge.js';
import { mirroredHeaders, officeStub } from '../support/office-stub.js';
import { clientSays, conversationOf, startUiWorld, type UiWorld } from '../support/ui-world.js';

/**
 * A reply WhatsApp refused stays in the conversation as failed; the solicitor sends it again from
 * there instead of typing it anew. The task pane runs in headless Chromium against a sandbox
 * bridge whose Cloud API simulator refuses the sends the test asks it to.
 */

// The one refusal these tests provoke in the browser on purpose: a resend after the window closed.
const expectedProblems = new Set(['console: Failed to load resource: the server responded with a status of 409 (Conflict)']);

describe('sending a failed reply again', () => {
  let world: UiWorld;
  let page: Page;
  const jane = { phone: '447700900321', name: 'Jane Smith' };
  const simulator = () => world.bridge.sandbox!.simulator;
  /** The sends that carried `text` to WhatsApp (as a text or a caption). */
  const sendsWith = (text: string) => simulator().sent.filter((sent) => JSON.stringify(sent.body).includes(JSON.stringify(text).slice(1, -1)));
  const paneOf = (name: string) => page.getByRole('region', { name: `WhatsApp conversation with ${name}` });
  const failedBubbles = (name: string, text: string) => paneOf(name).locator('li.pending[data-state="failed"]', { hasText: text });
  const isFocused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);

  /** Sends `text` from the reply box while WhatsApp refuses the next `refusals` sends; returns its failed bubble. */
  async function failedReply(name: string, text: string, refusals = 1): Promise<Locator> {
    simulator().failNextSends(refusals, 400);
    await page.getByLabel('Reply', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const bubble = failedBubbles(name, text);
    await bubble.waitFor({ timeout: 15_000 });
    return bubble;
  }

  async function showConversationOf(name: string, chatId: string): Promise<void> {
    const subject = `WhatsApp · ${name}`;
    await page.evaluate((mail) => (window as unknown as { __office: { selectMail(mail: object): void } }).__office.selectMail(mail), { subject, headers: mirroredHeaders(chatId, subject) });
    await paneOf(name).locator('.stream-state[data-state="live"]').waitFor({ timeout: 15_000 });
  }

  beforeAll(async () => {
    world = await startUiWorld({ WA_BRIDGE_TEMPLATES: 'hearing_update:en_GB' });
    await clientSays(world.bridge, { ...jane, text: 'When is the survey?' });
    const conversation = await conversationOf(world.api, jane.phone);
    page = await world.context.newPage();
    const subject = 'WhatsApp · Jane Smith';
    await page.route('**/addin/office-js/office.js', (route) => route.fulfill({ contentType: 'text/javascript', body: officeStub({ subject, headers: mirroredHeaders(conversation.chatId, subject) }) }));
    await page.goto(`${world.bridge.url}/addin/index.html`);
    await paneOf(jane.name).locator('.stream-state[data-state="live"]').waitFor({ timeout: 20_000 });
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('sends a failed reply again: the client receives it once, the pane shows it sent, and the failure stays on record', async () => {
    const text = 'The survey is booked for Tuesday at 10.';
    const failed = await failedReply(jane.name, text);
    expect(await failed.locator('.failure').innerText()).toMatch(/^Failed: WhatsApp refused .*Simulated send failure/);
    expect(sendsWith(text)).toEqual([]);

    expect(await axeViolations(page)).toEqual([]);
    const again = failed.getByRole('button', { name: 'Send again' });
    // Several failed replies each have one: the button is described by the text it sends.
    expect(await again.evaluate((button) => document.getElementById(button.getAttribute('aria-describedby') ?? '')?.textContent)).toBe(text);
    await again.click();

    await waitFor(() => sendsWith(text).length === 1, 15_000, () => `the resend never reached the simulator: ${JSON.stringify(simulator().sent)}`);
    expect(sendsWith(text)[0]).toMatchObject({ to: jane.phone, type: 'text' });
    // Sent like any reply: an outgoing bubble with its ticks, and nothing left waiting.
    const outgoing = paneOf(jane.name).locator('li.bubble.outgoing', { hasText: text });
    await outgoing.locator('.ticks').waitFor({ timeout: 15_000 });
    expect(['sent', 'delivered', 'read']).toContain(await outgoing.locator('.ticks').getAttribute('data-status'));
    await expect.poll(() => paneOf(jane.name).locator('li.pending[data-state="queued"]').count(), { timeout: 10_000 }).toBe(0);

    // The failed reply is still shown, now saying it was sent again; its button is gone, and the
    // focus went to the reply it belonged to rather than to the page.
    expect(await failed.count()).toBe(1);
    expect(await failed.locator('.failure').innerText()).toMatch(/^Failed: /);
    await expect.poll(() => failed.getByRole('status').innerText(), { timeout: 10_000 }).toMatch(/^Sent again: (queued for WhatsApp|WhatsApp has it)\.$/);
    expect(await again.count()).toBe(0);
    expect(await isFocused(failed)).toBe(true);

    // After a reload the failed reply offers to send again; pressed, the bridge takes that copy only once.
    await page.reload();
    await paneOf(jane.name).locator('.stream-state[data-state="live"]').waitFor({ timeout: 20_000 });
    await failed.getByRole('button', { name: 'Send again' }).click();
    await expect.poll(() => failed.getByRole('status').innerText(), { timeout: 10_000 }).toBe('Already sent again: WhatsApp has it.');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sendsWith(text)).toHaveLength(1);
    expect(await paneOf(jane.name).locator('li.bubble.outgoing', { hasText: text }).count()).toBe(1);
  });

  it('a copy WhatsApp refuses as well shows up as a new failed reply, with the same text and the reason, to send again in turn', async () => {
    const text = 'Please bring your passport on Tuesday.';
    const failed = await failedReply(jane.name, text, 2);
    await failed.getByRole('button', { name: 'Send again' }).click();

    await expect.poll(() => failed.count(), { timeout: 15_000 }).toBe(2);
    const [first, copy] = [failed.first(), failed.last()];
    await expect.poll(() => first.getByRole('status').innerText(), { timeout: 10_000 }).toMatch(/^Sent again/);
    expect(await copy.locator('.text').innerText()).toBe(text);
    expect(await copy.locator('.failure').innerText()).toMatch(/^Failed: WhatsApp refused .*Simulated send failure/);
    expect(sendsWith(text)).toEqual([]);

    await copy.getByRole('button', { name: 'Send again' }).click();
    await waitFor(() => sendsWith(text).length === 1, 15_000, () => 'the second resend never reached the simulator');
    await paneOf(jane.name).locator('li.bubble.outgoing', { hasText: text }).locator('.ticks').waitFor({ timeout: 15_000 });
    await expect.poll(() => copy.getByRole('status').innerText(), { timeout: 10_000 }).toMatch(/^Sent again: /);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sendsWith(text)).toHaveLength(1);
  });

  it('sends a failed reply with a file again with the same file, which the bridge kept', async () => {
    const text = 'The signed contract, attached.';
    const contract = Buffer.from('%PDF-1.4\nContract\n%%EOF\n');
    simulator().failNextSends(1, 400);
    await page.getByLabel('Attach files').setInputFiles({ name: 'contract.pdf', mimeType: 'application/pdf', buffer: contract });
    await page.getByLabel('Reply', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const failed = failedBubbles(jane.name, text);
    await failed.waitFor({ timeout: 15_000 });
    expect(await failed.innerText()).toContain('📎 contract.pdf');

    const documentsBefore = simulator().sent.filter((sent) => sent.type === 'document').length;
    await failed.getByRole('button', { name: 'Send again' }).click();
    await waitFor(() => simulator().sent.filter((sent) => sent.type === 'document').length === documentsBefore + 1, 15_000, () => 'the file was not sent again');
    const sent = simulator().sent.at(-1)!;
    expect(sent.body).toMatchObject({ to: jane.phone, document: { caption: text, filename: 'contract.pdf' } });
    expect(simulator().mediaById((sent.body.document as { id: string }).id)?.bytes.equals(contract)).toBe(true);
    await expect.poll(() => failed.getByRole('status').innerText(), { timeout: 10_000 }).toMatch(/^Sent again: /);
  });

  it('a resend the bridge refuses (the 24-hour window closed meanwhile) keeps the reply, says why, and a failed template goes again', async () => {
    // The client last wrote almost 24 hours ago: the window closes a few seconds into the test.
    const sam = { phone: '447700900654', name: 'Sam Green' };
    const wrote = new Date(Date.now() - 24 * 3600_000 + 15_000);
    await clientSays(world.bridge, { ...sam, text: 'Is the lease ready?', at: wrote });
    const conversation = await conversationOf(world.api, sam.phone);
    expect(conversation.window.state).toBe('open');
    await showConversationOf(sam.name, conversation.chatId);

    const text = 'The lease is ready for you to sign.';
    const failed = await failedReply(sam.name, text);
    const again = failed.getByRole('button', { name: 'Send again' });
    await waitFor(() => Date.now() > Date.parse(conversation.window.closesAt!) + 1000, 30_000, () => 'the window never closed');
    await again.click();

    const alert = failed.getByRole('alert');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.innerText()).toMatch(/^Not sent again: WhatsApp only accepts a free-form reply within 24 hours of the client's last message/);
    // The reply keeps its text and its button, which keeps the focus, to try again later.
    expect(await failed.locator('.text').innerText()).toBe(text);
    expect(await isFocused(again)).toBe(true);
    expect(await failed.getByRole('status').innerText()).toBe('');
    expect(sendsWith(text)).toEqual([]);
    // The reply box now offers templates only, as after a refused send from it.
    await page.locator('.window-closed').waitFor({ timeout: 5_000 });

    // A template WhatsApp refused goes again as the same template.
    simulator().failNextSends(1, 400);
    await page.getByLabel('Template').selectOption({ label: 'hearing_update (en_GB)' });
    await page.getByRole('button', { name: 'Send template' }).click();
    const failedTemplate = failedBubbles(sam.name, 'Template: hearing_update');
    await failedTemplate.waitFor({ timeout: 15_000 });
    const templatesBefore = simulator().sent.filter((sent) => sent.type === 'template').length;
    await failedTemplate.getByRole('button', { name: 'Send again' }).click();
    await waitFor(() => simulator().sent.filter((sent) => sent.type === 'template').length === templatesBefore + 1, 15_000, () => 'the template was not sent again');
    expect(simulator().sent.at(-1)).toMatchObject({ to: sam.phone, type: 'template', body: { template: { name: 'hearing_update', language: { code: 'en_GB' } } } });
    // The simulator has the send before the browser has the bridge's answer: wait for the note.
    await expect.poll(() => failedTemplate.getByRole('status').innerText(), { timeout: 10_000 }).toMatch(/^Sent again: /);
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(world.problems.filter((problem) => !expectedProblems.has(problem))).toEqual([]);
  });
});
