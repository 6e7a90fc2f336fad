import express from 'express';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemHandler } from '../api/problem.js';
import { BadInputError } from '../core/errors.js';
import { startMailCatcher, type MailCatcher } from './catcher.js';
import { renderSandboxPage } from './page.js';
import { createSandboxRouter, type ClientMessage, type MailViewWithLinks, type PhoneMessage, type SandboxClient, type SandboxPhone, type SandboxSolicitor } from './routes.js';
import { ReplyRefusedError } from './solicitor.js';

type SendInput = Parameters<SandboxClient['sendAsClient']>[0];

describe('sandbox API', () => {
  let catcher: MailCatcher;
  let server: Server;
  let base: string;
  const sent: SendInput[] = [];
  const replies: Array<Parameters<SandboxSolicitor['reply']>[0]> = [];
  const firmMessage: PhoneMessage = { waMessageId: 'wamid.OUT1', type: 'text', text: 'We have your statement.', sentAt: 1_770_000_000_000, state: 'delivered' };
  const solicitor: SandboxSolicitor = {
    async reply(input) {
      if (input.text === 'refuse me') throw new ReplyRefusedError("The bridge's reply intake refused the reply: 550 5.7.1 sender not allowed");
      replies.push(input);
      return { response: '250 2.0.0 reply accepted' };
    },
  };
  const photoId = 'wamid.HBgM/NDQ3NzAw+OTAwMTIz=';
  const photoBytes = Buffer.from('\x89PNG\r\n\x1a\n not really a picture', 'latin1');
  const pictureAsked: string[] = [];
  const clientMessage: ClientMessage = { waMessageId: 'wamid.IN1', text: 'Here is my statement.', fileName: 'statement.pdf', sentAt: 1_769_999_000_000 };
  const phone: SandboxPhone = {
    messages: (to) => (to === '+447700900123' ? [firmMessage] : []),
    sentFrom: (from) => (from === '+447700900123' ? [clientMessage] : []),
    picture: async (waMessageId) => {
      pictureAsked.push(waMessageId);
      return waMessageId === photoId ? { bytes: photoBytes, mimeType: 'image/png' } : undefined;
    },
  };
  const transport = () => nodemailer.createTransport({ url: catcher.url });

  beforeAll(async () => {
    catcher = await startMailCatcher();
    const client: SandboxClient = {
      async sendAsClient(input) {
        if (input.text === 'outside the window') throw new BadInputError('window_closed', 'The 24-hour window is closed.');
        sent.push(input);
        return { waMessageId: `wamid.${sent.length}` };
      },
    };
    const app = express();
    app.use('/sandbox', createSandboxRouter({ catcher, client, solicitor, phone, firmNumber: '+44 20 7946 0000', mailbox: 'whatsapp@firm.example' }));
    app.use(problemHandler({ error: () => undefined }));
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sandbox`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await catcher.stop();
  });

  const post = (body: unknown) => fetch(`${base}/api/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('sends a valid message as the client with the number in E.164 and answers 202', async () => {
    const response = await post({ name: ' Jane Smith ', phone: '+44 (7700) 900-123', text: 'Hello', file: { fileName: 'note.txt', mimeType: 'Text/Plain', dataBase64: Buffer.from('hi').toString('base64') } });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ waMessageId: 'wamid.1' });
    expect(sent.at(-1)).toEqual({ name: 'Jane Smith', phone: '+447700900123', text: 'Hello', file: { fileName: 'note.txt', mimeType: 'text/plain', bytes: Buffer.from('hi') } });
  });

  it('reports every problem of a bad message with its path and sends nothing', async () => {
    const before = sent.length;
    const response = await post({ name: '', phone: '12ab', text: 'x'.repeat(4097), file: { fileName: 'a.pdf', mimeType: 'pdf', dataBase64: '@@@' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { code: string; errors: Array<{ path: string; message: string }> };
    expect(problem.code).toBe('bad_message');
    expect(problem.errors.map((issue) => issue.path).sort()).toEqual(['file.dataBase64', 'file.mimeType', 'name', 'phone', 'text']);
    expect(problem.errors.find((issue) => issue.path === 'phone')?.message).toContain('8 to 15 digits');
    expect(sent.length).toBe(before);
  });

  it('asks for a text or a file, and refuses an empty file', async () => {
    const none = await post({ name: 'Jane', phone: '+447700900123', text: '   ' });
    expect(((await none.json()) as { errors: unknown[] }).errors).toEqual([{ path: 'text', message: 'Type a message or attach a file.' }]);
    const empty = await post({ name: 'Jane', phone: '+447700900123', file: { fileName: 'a.txt', mimeType: 'text/plain', dataBase64: '' } });
    expect(((await empty.json()) as { errors: Array<{ path: string }> }).errors.map((issue) => issue.path)).toEqual(['file.dataBase64']);
  });

  it('refuses numbers with too few or too many digits', async () => {
    for (const phone of ['+44 7700', '+1234567890123456']) {
      const response = await post({ name: 'Jane', phone, text: 'hi' });
      expect(((await response.json()) as { errors: Array<{ path: string }> }).errors.map((issue) => issue.path)).toEqual(['phone']);
    }
  });

  it('answers 413 to a file over 16 MB and 400 to a body that is not JSON', async () => {
    const big = await post({ name: 'Jane', phone: '+447700900123', file: { fileName: 'big.bin', mimeType: 'application/octet-stream', dataBase64: Buffer.alloc(17 * 1024 * 1024).toString('base64') } });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { detail: string }).detail).toContain('16 MB');
    const broken = await post('{"name":');
    expect(broken.status).toBe(400);
  });

  it("passes the bridge's own errors through with their status and message", async () => {
    const response = await post({ name: 'Jane', phone: '+447700900123', text: 'outside the window' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'window_closed', detail: 'The 24-hour window is closed.' });
  });

  it('lists caught mails with their threading and WhatsApp headers, decoded, and serves raw bytes and attachments', async () => {
    const mailer = transport();
    await mailer.sendMail({
      envelope: { from: 'bridge@wa.sandbox.test', to: ['whatsapp@firm.example'] },
      from: 'José Núñez via WhatsApp <bridge@wa.sandbox.test>',
      to: 'whatsapp@firm.example',
      subject: 'WhatsApp · José Núñez (+34 600 000 000) [WA abc]',
      messageId: '<m.2@wa.sandbox.test>',
      inReplyTo: '<m.1@wa.sandbox.test>',
      references: ['<m.0@wa.sandbox.test>', '<m.1@wa.sandbox.test>'],
      headers: { 'Thread-Topic': 'WhatsApp · José Núñez (+34 600 000 000) [WA abc]', 'Thread-Index': 'AdxAAAAB', 'X-WhatsApp-Chat-Id': 'cloud:1:34600000000', 'X-WhatsApp-From': 'José Núñez', 'Auto-Submitted': 'auto-generated' },
      text: 'Hola',
      html: '<p>Hola</p><img src="https://tracker.example/x.gif">',
      attachments: [{ filename: '../../etc/CON.txt', contentType: 'text/plain', content: 'secret' }],
    });
    mailer.close();

    const { mails } = (await (await fetch(`${base}/api/mails`)).json()) as { mails: MailViewWithLinks[] };
    const mail = mails.at(-1);
    expect(mail).toMatchObject({
      messageId: '<m.2@wa.sandbox.test>',
      inReplyTo: '<m.1@wa.sandbox.test>',
      references: ['<m.0@wa.sandbox.test>', '<m.1@wa.sandbox.test>'],
      subject: 'WhatsApp · José Núñez (+34 600 000 000) [WA abc]',
      threadTopic: 'WhatsApp · José Núñez (+34 600 000 000) [WA abc]',
      threadIndex: 'AdxAAAAB',
      chatId: 'cloud:1:34600000000',
      from: 'José Núñez via WhatsApp <bridge@wa.sandbox.test>',
      text: 'Hola',
    });
    expect(mail?.headers.map((header) => [header.name.toLowerCase(), header.value])).toEqual([
      ['x-whatsapp-chat-id', 'cloud:1:34600000000'],
      ['x-whatsapp-from', 'José Núñez'],
      ['auto-submitted', 'auto-generated'],
    ]);
    // The HTML travels with a policy that forbids every fetch, so the tracker pixel never loads.
    expect(mail?.html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
    expect(mail?.attachments).toEqual([
      { index: 0, fileName: '../../etc/CON.txt', contentType: 'text/plain', size: 6, sha256: createHash('sha256').update('secret').digest('hex'), url: `/sandbox/api/mails/${mail?.id}/attachments/0` },
    ]);

    const raw = await fetch(`http://${new URL(base).host}${mail?.rawUrl}`);
    expect(raw.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await raw.arrayBuffer()).equals(catcher.get(mail?.id ?? 0)?.raw ?? Buffer.alloc(0))).toBe(true);

    const attachment = await fetch(`http://${new URL(base).host}${mail?.attachments[0]?.url}`);
    expect(attachment.headers.get('content-disposition')).toBe('attachment; filename=_.._etc_CON.txt');
    expect(await attachment.text()).toBe('secret');
  });

  it('answers 404 as a problem for unknown mails and attachments', async () => {
    for (const path of ['/api/mails/999999', '/api/mails/abc/raw', `/api/mails/${catcher.mails()[0]?.id}/attachments/7`]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { code: string }).code).toBe('not_found');
    }
  });

  it('streams a mail event per caught mail, and replays the ones missed since Last-Event-ID', async () => {
    const mailer = transport();
    const send = (subject: string) => mailer.sendMail({ envelope: { from: 'a@wa.sandbox.test', to: ['whatsapp@firm.example'] }, raw: `Subject: ${subject}\r\n\r\nbody\r\n` });
    await send('seen');
    await send('missed');
    const lastId = catcher.mails().at(-1)?.id ?? 0;
    const controller = new AbortController();
    const response = await fetch(`${base}/api/events`, { headers: { 'Last-Event-ID': String(lastId - 1) }, signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(new RegExp(`id: ${lastId}\\n`));
    expect(received).toContain(`event: mail\nid: ${lastId}\ndata: {"id":${lastId}}\n\n`);
    expect(received).not.toContain(`id: ${lastId - 1}\n`);

    await send('live');
    mailer.close();
    await readUntil(new RegExp(`id: ${lastId + 1}\\n`));
    expect(received).toContain(`data: {"id":${lastId + 1}}`);
    controller.abort();
  });

  it('serves the page with its policy and the firm details escaped', async () => {
    const response = await fetch(base);
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await response.text();
    expect(html).toContain('data-base="/sandbox"');
    expect(html).toContain('SANDBOX:</strong> no real WhatsApp number or mailbox is connected.');
    const hostile = renderSandboxPage({ basePath: '/x"><script>', firmNumber: '<img src=x onerror=alert(1)>', mailbox: 'a&b@firm.example' });
    expect(hostile).not.toContain('<img src=x');
    expect(hostile).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(hostile).toContain('data-base="/x&quot;&gt;&lt;script&gt;"');
    expect(hostile).toContain('a&amp;b@firm.example');
  });

  describe('solicitor replies and the phone', () => {
    const postReply = (body: unknown) => fetch(`${base}/api/replies`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

    it('hands a reply to the newest mail to the solicitor and answers 202 with the intake response', async () => {
      await transport().sendMail({ from: 'bridge@wa.sandbox.test', to: 'whatsapp@firm.example', subject: 'to answer', text: 'hello' });
      const mail = catcher.mails().at(-1)!;
      const response = await postReply({ mailId: mail.id, text: 'Thanks, received.', file: { fileName: 'a.txt', mimeType: 'text/plain', dataBase64: Buffer.from('A').toString('base64') } });
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ response: '250 2.0.0 reply accepted' });
      expect(replies.at(-1)).toMatchObject({ mail: { id: mail.id }, text: 'Thanks, received.', file: { fileName: 'a.txt', mimeType: 'text/plain', bytes: Buffer.from('A') } });
    });

    it('answers problems for a bad reply, an unknown mail and a refused one', async () => {
      const mailId = catcher.mails().at(-1)!.id;
      const bad = await postReply({ mailId: 'x', text: ' ' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors.map((issue) => issue.path)).toContain('mailId');
      const blank = await postReply({ mailId, text: '  ' });
      expect(blank.status).toBe(400);
      expect(await blank.json()).toMatchObject({ errors: [{ path: 'text', message: 'Type a reply or attach a file.' }] });
      const unknown = await postReply({ mailId: 999_999, text: 'hi' });
      expect(unknown.status).toBe(404);
      const refused = await postReply({ mailId, text: 'refuse me' });
      expect(refused.status).toBe(422);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(await refused.json()).toMatchObject({ code: 'reply_refused', detail: expect.stringContaining('550 5.7.1 sender not allowed') });
    });

    it("lists both sides of one phone's chat, normalised to E.164, and refuses a bad number", async () => {
      const response = await fetch(`${base}/api/phone?phone=${encodeURIComponent('+44 7700 900123')}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ phone: '+447700900123', messages: [firmMessage], sent: [clientMessage] });
      expect(await (await fetch(`${base}/api/phone?phone=${encodeURIComponent('+44 7700 900999')}`)).json()).toEqual({ phone: '+447700900999', messages: [], sent: [] });
      expect((await fetch(`${base}/api/phone?phone=call-me`)).status).toBe(400);
    });

    it('serves an archived picture as a picture only, and a clear 404 for any other id', async () => {
      const response = await fetch(`${base}/api/phone/pictures/${encodeURIComponent(photoId)}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain('sandbox');
      expect(Buffer.from(await response.arrayBuffer()).equals(photoBytes)).toBe(true);
      expect(pictureAsked).toEqual([photoId]);

      const missing = await fetch(`${base}/api/phone/pictures/wamid.NOPE`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toContain('application/problem+json');
      expect(await missing.json()).toMatchObject({ code: 'not_found', detail: expect.stringContaining('wamid.NOPE') });
      // Ids no WhatsApp message has never reach the store.
      for (const hostile of ['..%2F..%2Fetc%2Fpasswd', `${'a'.repeat(257)}`, '%3Cscript%3E', 'x%0D%0ASet-Cookie:%20a=b']) {
        const refused = await fetch(`${base}/api/phone/pictures/${hostile}`);
        expect(refused.status).toBe(404);
        expect(refused.headers.get('set-cookie')).toBeNull();
      }
      expect(pictureAsked).toEqual([photoId, 'wamid.NOPE']);
    });
  });
});
