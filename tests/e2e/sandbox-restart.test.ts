import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type Bridge } from '../../bridge-server/src/app.js';
import { loadConfig } from '../../bridge-server/src/config/load.js';
import { createLogger } from '../../bridge-server/src/ops/logger.js';
import type { ClientMessage, MailViewWithLinks, PhoneMessage } from '../../bridge-server/src/sandbox/routes.js';
import { axeViolations } from '../support/a11y.js';
import { waitFor, waitForIdleOutbox } from '../support/bridge.js';
import { launchChromium, openSandboxPage } from '../support/browser.js';
import { gradientPng } from '../support/png.js';

/**
 * The sandbox bridge stopped and started again over the same data directory: its page still shows
 * the mail it relayed before, byte for byte, and both sides of the client's chat on the phone,
 * although the mail catcher and the simulator behind it started empty. What happens after the
 * restart follows on from there.
 */

interface PhoneAnswer {
  phone: string;
  messages: PhoneMessage[];
  sent: ClientMessage[];
}

const phone = '+447700900123';
const clientText = 'Good morning, is there any news about the completion date?';
const caption = 'My signed authority form, as you asked.';
const fileBytes = Buffer.from('%PDF-1.4\n% signed authority form\n', 'latin1');
const photoCaption = 'This is the crack in the kitchen wall.';
const photoBytes = gradientPng(96, 64, 3);
const planBytes = gradientPng(48, 80, 9);
const replyText = 'Completion is set for Friday; I will confirm the time tomorrow.';
const afterText = 'Thank you. Will I need to come to the office on Friday?';
const secondReply = 'No need, we can do it all by email.';
const refusedReply = 'I have sent the completion statement to your old address.';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** Both sides of the chat without their times, which are compared apart. */
const withoutTimes = <T extends { sentAt: number }>(messages: T[]) => messages.map(({ sentAt: _sentAt, ...message }) => message);

describe('sandbox: the page across a restart of the bridge', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-bridge-sandbox-restart-'));
  let bridge: Bridge | undefined;
  let browser: Browser;
  let page: Page;
  const pageProblems: string[] = [];
  let mailsBefore: MailViewWithLinks[] = [];
  let rawHashesBefore: string[] = [];
  let phoneBefore: PhoneAnswer;

  const start = () => startBridge(loadConfig({ PORT: '0', WA_BRIDGE_HOST: '127.0.0.1', WA_BRIDGE_DATA_DIR: dataDir }, undefined), { logger: createLogger('silent'), pollMs: 100 });
  const running = () => {
    if (!bridge) throw new Error('the bridge is not running');
    return bridge;
  };
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${running().url}/sandbox/api${path}`, init);
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  const post = (path: string, body: unknown) => api<unknown>(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const mails = async () => (await api<{ mails: MailViewWithLinks[] }>('/mails')).mails;
  const phoneChat = () => api<PhoneAnswer>(`/phone?phone=${encodeURIComponent(phone)}`);
  const rawHash = async (mail: MailViewWithLinks) => {
    const response = await fetch(`${running().url}${mail.rawUrl}`);
    expect(response.status).toBe(200);
    return sha256(Buffer.from(await response.arrayBuffer()));
  };
  const pictureHash = async (waMessageId: string) => {
    const response = await fetch(`${running().url}/sandbox/api/phone/pictures/${encodeURIComponent(waMessageId)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    return sha256(Buffer.from(await response.arrayBuffer()));
  };
  /** The pixel size of a bubble's picture once the browser has decoded it. */
  const shownPicture = async (bubble: Locator) => {
    const img = bubble.locator('img.bubble-picture[data-state="shown"]');
    await img.waitFor({ timeout: 10_000 });
    return img.evaluate((node: HTMLImageElement) => [node.naturalWidth, node.naturalHeight, node.alt]);
  };
  const waitForMail = (what: string, found: (mail: MailViewWithLinks) => boolean) =>
    waitFor(async () => (await mails()).some(found), 20_000, async () => `no mail ${what}; the catcher holds ${(await mails()).length}`);

  beforeAll(async () => {
    browser = await launchChromium();
    page = await openSandboxPage(browser, (url) => url.href.startsWith('http://127.0.0.1:'), pageProblems);
  });

  afterAll(async () => {
    await browser?.close();
    await bridge?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('relays a message, a file and a reply, and the phone sees the reply read', async () => {
    bridge = await start();
    expect(bridge.config.sandbox).toBe(true);
    await post('/messages', { name: 'Jane Smith', phone, text: clientText });
    await waitForMail('with the client’s text', (mail) => mail.text?.includes(clientText) ?? false);
    await post('/messages', { name: 'Jane Smith', phone, text: caption, file: { fileName: 'authority.pdf', mimeType: 'application/pdf', dataBase64: fileBytes.toString('base64') } });
    await waitForMail('with the file', (mail) => mail.attachments.some((attachment) => attachment.fileName === 'authority.pdf'));
    await post('/messages', { name: 'Jane Smith', phone, text: photoCaption, file: { fileName: 'kitchen.png', mimeType: 'image/png', dataBase64: photoBytes.toString('base64') } });
    await waitForMail('with the photo', (mail) => mail.attachments.some((attachment) => attachment.sha256 === sha256(photoBytes)));

    // The solicitor answers with a picture of their own, the text as its caption.
    const newest = (await mails()).at(-1)!;
    await post('/replies', { mailId: newest.id, text: replyText, file: { fileName: 'plan.png', mimeType: 'image/png', dataBase64: planBytes.toString('base64') } });
    await waitForMail('mirroring the solicitor’s reply', (mail) => mail.text?.includes(replyText) ?? false);
    const simulator = running().sandbox!.simulator;
    await waitFor(() => simulator.sent.length === 1 && simulator.deliveryState(simulator.sent[0]!.waMessageId) === 'read', 15_000, () => `the reply was not read: ${JSON.stringify(simulator.sent.map((sent) => sent.waMessageId))}`);

    // A second reply WhatsApp refuses for good: the solicitor gets a notice in the thread.
    simulator.failNextSends(1, 400, 131026);
    await post('/replies', { mailId: newest.id, text: refusedReply });
    await waitForMail('telling the solicitor the reply was not sent', (mail) => (mail.text?.includes('was NOT sent on WhatsApp') ?? false) && (mail.text?.includes(refusedReply) ?? false));
    await waitForIdleOutbox(running());

    mailsBefore = await mails();
    rawHashesBefore = await Promise.all(mailsBefore.map(rawHash));
    phoneBefore = await phoneChat();
    expect(mailsBefore.length).toBeGreaterThanOrEqual(4);
    // The notice goes to the solicitor as well as the firm mailbox.
    expect(mailsBefore.at(-1)!.envelope.to).toHaveLength(2);
    expect(rawHashesBefore).toEqual(mailsBefore.map((mail) => mail.sha256));
    // A photo goes without a name on WhatsApp: the phone shows the picture instead, the bytes that were sent.
    expect(withoutTimes(phoneBefore.sent)).toEqual([
      { waMessageId: expect.stringMatching(/^wamid\./), text: clientText },
      { waMessageId: expect.stringMatching(/^wamid\./), text: caption, fileName: 'authority.pdf' },
      { waMessageId: expect.stringMatching(/^wamid\./), text: photoCaption, picture: true },
    ]);
    expect(withoutTimes(phoneBefore.messages)).toEqual([{ waMessageId: simulator.sent[0]!.waMessageId, type: 'image', text: replyText, picture: true, state: 'read' }]);
    expect(await pictureHash(phoneBefore.sent[2]!.waMessageId)).toBe(sha256(photoBytes));
    expect(await pictureHash(phoneBefore.messages[0]!.waMessageId)).toBe(sha256(planBytes));
  });

  it('serves the earlier mails byte for byte and both sides of the chat once started again', async () => {
    await running().stop();
    bridge = undefined;
    bridge = await start();
    expect(running().sandbox!.simulator.sent).toEqual([]);

    const after = await mails();
    expect(after.map((mail) => ({ id: mail.id, sha256: mail.sha256, messageId: mail.messageId, envelope: mail.envelope }))).toEqual(
      mailsBefore.map((mail) => ({ id: mail.id, sha256: mail.sha256, messageId: mail.messageId, envelope: mail.envelope })),
    );
    expect(await Promise.all(after.map(rawHash))).toEqual(rawHashesBefore);
    // The attachment comes out of the restored mail as it went in.
    const withFile = after.find((mail) => mail.attachments.some((attachment) => attachment.fileName === 'authority.pdf'))!;
    const attachment = withFile.attachments[withFile.attachments.findIndex((listed) => listed.fileName === 'authority.pdf')]!;
    const download = await fetch(`${running().url}${attachment.url}`);
    expect(Buffer.from(await download.arrayBuffer()).equals(fileBytes)).toBe(true);

    const chat = await phoneChat();
    expect(withoutTimes(chat.sent)).toEqual(withoutTimes(phoneBefore.sent));
    expect(withoutTimes(chat.messages)).toEqual(withoutTimes(phoneBefore.messages));
    // The pictures come from the archive, which the restart did not touch.
    expect(await pictureHash(chat.sent[2]!.waMessageId)).toBe(sha256(photoBytes));
    expect(await pictureHash(chat.messages[0]!.waMessageId)).toBe(sha256(planBytes));
    // The times are the store's record of the same moments.
    for (const [now, then] of [...chat.sent.map((m, i) => [m.sentAt, phoneBefore.sent[i]!.sentAt]), ...chat.messages.map((m, i) => [m.sentAt, phoneBefore.messages[i]!.sentAt])]) {
      expect(Math.abs(now! - then!)).toBeLessThan(5_000);
    }
  });

  it('shows them on the page, and what comes after the restart follows them', async () => {
    await page.goto(`${running().url}/sandbox`);
    await page.locator('#live[data-state="live"]').waitFor();
    const thread = page.locator('section.thread');
    await expect.poll(() => thread.locator('article.mail').count(), { timeout: 10_000 }).toBe(mailsBefore.length);
    expect(await thread.count()).toBe(1);
    await thread.locator('article.mail', { hasText: clientText }).waitFor();
    await thread.locator('article.mail', { hasText: replyText }).waitFor();
    // A picture attachment shows as a preview, as a mail client shows it; other files as their name alone.
    const previewSize = async (mail: Locator) => {
      const preview = mail.locator('img.attachment-preview');
      await preview.scrollIntoViewIfNeeded();
      await expect.poll(() => preview.evaluate((img: HTMLImageElement) => (img.complete ? [img.naturalWidth, img.naturalHeight] : null)), { timeout: 10_000 }).not.toBeNull();
      return preview.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
    };
    // The client's photo (the solicitor's reply quotes its caption, so it is the first such mail), then the solicitor's plan.
    expect(await previewSize(thread.locator('article.mail', { hasText: photoCaption }).first())).toEqual([96, 64]);
    expect(await previewSize(thread.locator('article.mail', { hasText: replyText }).first())).toEqual([48, 80]);
    expect(await thread.locator('article.mail', { hasText: caption }).locator('img.attachment-preview').count()).toBe(0);

    const sentBubbles = page.locator('#sent li.bubble');
    await expect.poll(() => sentBubbles.count(), { timeout: 10_000 }).toBe(3);
    expect(await sentBubbles.nth(0).locator('.bubble-text').innerText()).toBe(photoCaption);
    expect(await shownPicture(sentBubbles.nth(0))).toEqual([96, 64, 'Photo']);
    expect(await sentBubbles.nth(0).locator('.bubble-file').count()).toBe(0);
    expect(await sentBubbles.nth(1).locator('.bubble-text').innerText()).toBe(caption);
    expect(await sentBubbles.nth(1).locator('.bubble-file').innerText()).toBe('authority.pdf');
    expect(await sentBubbles.nth(1).locator('img').count()).toBe(0);
    expect(await sentBubbles.nth(2).locator('.bubble-text').innerText()).toBe(clientText);
    const inbox = page.locator('#inbox li.bubble.incoming');
    await expect.poll(() => inbox.count(), { timeout: 10_000 }).toBe(1);
    expect(await inbox.locator('.bubble-text').innerText()).toBe(replyText);
    expect(await shownPicture(inbox)).toEqual([48, 80, 'Photo']);
    expect(await inbox.getAttribute('data-state')).toBe('read');
    expect(await axeViolations(page)).toEqual([]);

    // A new message from the client: its mail comes after the earlier ones, in the same thread.
    await page.getByLabel('Message', { exact: true }).fill(afterText);
    await page.locator('#file').setInputFiles({ name: 'office-door.png', mimeType: 'image/png', buffer: gradientPng(40, 30, 5) });
    await page.getByRole('button', { name: 'Send' }).click();
    const newMail = thread.locator('article.mail', { hasText: afterText });
    await newMail.waitFor({ timeout: 20_000 });
    expect(await thread.count()).toBe(1);
    expect(await thread.locator('article.mail').last().textContent()).toContain(afterText);
    await expect.poll(() => sentBubbles.count(), { timeout: 10_000 }).toBe(4);
    expect(await sentBubbles.nth(0).locator('.bubble-text').innerText()).toBe(afterText);
    // A photo sent now shows at once, from the simulator's memory (the archive has it only once the bridge downloads it).
    expect(await shownPicture(sentBubbles.nth(0))).toEqual([40, 30, 'Photo']);

    const listed = await mails();
    const added = listed.slice(mailsBefore.length);
    expect(listed.slice(0, mailsBefore.length).map((mail) => mail.sha256)).toEqual(mailsBefore.map((mail) => mail.sha256));
    expect(added.map((mail) => mail.id)).toEqual(added.map((_mail, i) => mailsBefore.length + 1 + i));
    expect(added.some((mail) => mail.text?.includes(afterText))).toBe(true);
    // It threads onto the last mail relayed before the restart (the notice after it is no relay of an event).
    const lastRelayed = mailsBefore.findLast((mail) => mail.text?.includes(replyText))!;
    expect(added.find((mail) => mail.text?.includes(afterText))?.references).toContain(lastRelayed.messageId);
  });

  it('lets the solicitor answer a mail from before the restart, and the phone lists the answer after the earlier one', async () => {
    const earlier = mailsBefore.find((mail) => mail.text?.includes(clientText))!;
    await post('/replies', { mailId: earlier.id, text: secondReply });
    const simulator = running().sandbox!.simulator;
    await waitFor(() => simulator.sent.length === 1, 15_000, () => 'the answer never reached the simulator');
    const chat = await phoneChat();
    expect(chat.messages.map((message) => message.text)).toEqual([replyText, secondReply]);
    await page.locator('#inbox li.bubble.incoming', { hasText: secondReply }).waitFor({ timeout: 10_000 });
    await waitForIdleOutbox(running());
  });

  it('ran without script errors or requests leaving the machine', () => {
    expect(pageProblems).toEqual([]);
  });
});
