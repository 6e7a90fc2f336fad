import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/a11y.js';
import { templateBodyComponents, waitFor } from '../support/bridge.js';
import { mirroredHeaders, officeStub } from '../support/office-stub.js';
import { artifactsDir, clientSays, conversationOf, startUiWorld, taskPaneViewport, type UiWorld } from '../support/ui-world.js';

/**
 * A template whose body has variables, sent from the Outlook task pane at its narrowest (320 px)
 * once the 24-hour window has closed: the reply box asks for each parameter by its configured
 * label. Headless Chromium against a sandbox bridge; the Cloud API simulator plays WhatsApp.
 */

// The one refusal provoked on purpose: a request altered on its way to the bridge.
const expectedProblems = new Set(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);

describe('template parameters in the reply box', () => {
  let world: UiWorld;
  let page: Page;
  const priya = { phone: '447700900877', name: 'Priya Patel' };
  const simulator = () => world.bridge.sandbox!.simulator;
  const templateSends = () => simulator().sent.filter((sent) => sent.type === 'template');
  const sendButton = () => page.getByRole('button', { name: 'Send template' });
  const clientName = () => page.getByRole('textbox', { name: 'Client name' });
  const hearingDate = () => page.getByRole('textbox', { name: 'Hearing date' });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  beforeAll(async () => {
    world = await startUiWorld({ WA_BRIDGE_TEMPLATES: 'hearing_update:en_GB,hearing_reminder:en_GB:Client name|Hearing date' });
    await clientSays(world.bridge, { ...priya, text: 'Please remind me of the hearing.', at: new Date(Date.now() - 30 * 3600_000) });
    const conversation = await conversationOf(world.api, priya.phone);
    expect(conversation.window.state).toBe('closed');
    page = await world.context.newPage();
    await page.setViewportSize({ width: 320, height: taskPaneViewport.height });
    const subject = 'WhatsApp · Priya Patel';
    await page.route('**/addin/office-js/office.js', (route) => route.fulfill({ contentType: 'text/javascript', body: officeStub({ subject, headers: mirroredHeaders(conversation.chatId, subject) }) }));
    await page.goto(`${world.bridge.url}/addin/index.html`);
    await page.locator('.stream-state[data-state="live"]').waitFor({ timeout: 20_000 });
    await page.locator('.window-closed').waitFor({ timeout: 10_000 });
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('asks for each parameter by its label, sends only once all are filled, in order, and empties the fields', async () => {
    // A template without variables asks for nothing.
    await page.getByLabel('Template').selectOption({ label: 'hearing_update (en_GB)' });
    expect(await page.locator('.template-parameter').count()).toBe(0);
    expect(await sendButton().isEnabled()).toBe(true);

    await page.getByLabel('Template').selectOption({ label: 'hearing_reminder (en_GB)' });
    await clientName().waitFor({ timeout: 5_000 });
    expect(await page.locator('.template-parameter label').allInnerTexts()).toEqual([expect.stringMatching(/^Client name\s*\*?$/), expect.stringMatching(/^Hearing date\s*\*?$/)]);
    for (const field of [clientName(), hearingDate()]) expect(await field.evaluate((input) => (input as HTMLInputElement).required)).toBe(true);
    expect(await sendButton().isDisabled()).toBe(true);

    await clientName().fill('Priya Patel');
    expect(await sendButton().isDisabled()).toBe(true);
    await hearingDate().fill('   ');
    expect(await sendButton().isDisabled()).toBe(true);
    await hearingDate().fill('Tuesday 14 May at 10:00, Court 3');
    expect(await sendButton().isEnabled()).toBe(true);

    // Nothing sideways at 320 px, labels and fields included.
    expect(await overflow()).toBeLessThanOrEqual(0);
    for (const field of [clientName(), hearingDate(), sendButton()]) {
      const box = (await field.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(320);
    }
    await page.screenshot({ path: path.join(artifactsDir, 'addin-template-parameters.png') });

    const before = templateSends().length;
    await sendButton().click();
    await waitFor(() => templateSends().length === before + 1, 15_000, () => `simulator received ${templateSends().length - before} template sends`);
    expect(templateSends().at(-1)).toMatchObject({ to: priya.phone, type: 'template' });
    expect((templateSends().at(-1)!.body as { template: unknown }).template).toEqual({
      name: 'hearing_reminder',
      language: { code: 'en_GB' },
      components: templateBodyComponents('Priya Patel', 'Tuesday 14 May at 10:00, Court 3'),
    });

    // Sent: the box is ready for another template, with nothing left in its fields.
    await page.getByRole('status').filter({ hasText: 'Reply queued for WhatsApp.' }).waitFor({ timeout: 5_000 });
    expect(await page.locator('.template-parameter').count()).toBe(0);
    await page.getByLabel('Template').selectOption({ label: 'hearing_reminder (en_GB)' });
    expect(await clientName().inputValue()).toBe('');
    expect(await hearingDate().inputValue()).toBe('');
    expect(await sendButton().isDisabled()).toBe(true);
  });

  it('shows the bridge refusing the parameters as it shows other refusals, and keeps what was typed', async () => {
    // The pane never sends an empty parameter: alter the request on its way, as an outdated pane might.
    await page.route('**/api/conversations/*/replies', async (route) => {
      const body = route.request().postDataJSON() as { template: { parameters: string[] } };
      await route.continue({ postData: JSON.stringify({ ...body, template: { ...body.template, parameters: [body.template.parameters[0], ' '] } }) });
    });
    const before = templateSends().length;
    await clientName().fill('Priya Patel');
    await hearingDate().fill('Friday 17 May');
    await sendButton().click();
    const alert = page.locator('form[aria-label="Reply to the client"]').getByRole('alert');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.innerText()).toBe('hearing_reminder (en_GB) takes 2 parameters, in this order: Client name, Hearing date. Every parameter needs some text; empty: Hearing date.');
    expect(await hearingDate().inputValue()).toBe('Friday 17 May');
    expect(await axeViolations(page)).toEqual([]);
    await page.unroute('**/api/conversations/*/replies');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(templateSends().length).toBe(before);
  });

  it('sends a failed template again with the same parameters', async () => {
    simulator().failNextSends(1, 400);
    await clientName().fill('Priya Patel');
    await hearingDate().fill('Monday 20 May');
    await sendButton().click();
    const failed = page.locator('li.pending[data-state="failed"]', { hasText: 'Template: hearing_reminder' });
    await failed.waitFor({ timeout: 15_000 });
    expect(await failed.locator('.text').innerText()).toBe('Template: hearing_reminder: Priya Patel | Monday 20 May');

    const before = templateSends().length;
    await failed.getByRole('button', { name: 'Send again' }).click();
    await waitFor(() => templateSends().length === before + 1, 15_000, () => 'the template was not sent again');
    expect((templateSends().at(-1)!.body as { template: { components: unknown } }).template.components).toEqual(templateBodyComponents('Priya Patel', 'Monday 20 May'));
    await expect.poll(() => failed.getByRole('status').innerText(), { timeout: 10_000 }).toMatch(/^Sent again: /);
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(world.problems.filter((problem) => !expectedProblems.has(problem))).toEqual([]);
  });
});
