import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadMedia } from './client.js';
import { startSimulator, type Simulator } from './server.js';

const accessToken = 'EAAG-simulator-test-token';
const appSecret = 'simulator-test-secret';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ appSecret, accessToken });
});
afterAll(async () => {
  await sim.stop();
});

const auth = { Authorization: `Bearer ${accessToken}` };
async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${sim.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: (): unknown => JSON.parse(text) };
}
const send = (body: unknown, headers: Record<string, string> = auth, phoneNumberId = sim.business.phoneNumberId) =>
  call(`/v23.0/${phoneNumberId}/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('simulator send endpoint', () => {
  it('accepts a documented text send, answers like the Cloud API and records it', async () => {
    const before = sim.sent.length;
    const body = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '447700900123', type: 'text', text: { body: 'Thanks Jane, see you Friday.' }, biz_opaque_callback_data: '<r1@firm.example>' };
    const response = await send(body);
    expect(response.status).toBe(200);
    const answer = response.json() as { messaging_product: string; contacts: unknown[]; messages: Array<{ id: string }> };
    expect(answer).toEqual({ messaging_product: 'whatsapp', contacts: [{ input: '447700900123', wa_id: '447700900123' }], messages: [{ id: expect.stringMatching(/^wamid\./) }] });
    expect(sim.sent.slice(before)).toEqual([expect.objectContaining({ to: '447700900123', type: 'text', waMessageId: answer.messages[0]?.id, body })]);
  });

  it('answers a send to a business-scoped user id with an empty wa_id and the user_id', async () => {
    const response = await send({ messaging_product: 'whatsapp', to: 'GB.1502576394655843', type: 'text', text: { body: 'Hello' } });
    expect((response.json() as { contacts: unknown[] }).contacts).toEqual([{ input: 'GB.1502576394655843', wa_id: '', user_id: 'GB.1502576394655843' }]);
  });

  it('refuses a send without the bearer token with an OAuthException, and records nothing', async () => {
    const before = sim.sent.length;
    const attempts: Array<Record<string, string>> = [{}, { Authorization: 'Bearer not-the-token' }, { Authorization: accessToken }];
    for (const headers of attempts) {
      const response = await send({ messaging_product: 'whatsapp', to: '447700900123', type: 'text', text: { body: 'x' } }, headers);
      expect(response.status).toBe(401);
      expect(response.json()).toEqual({ error: { message: expect.any(String), type: 'OAuthException', code: 190, fbtrace_id: expect.any(String) } });
    }
    expect(sim.sent.length).toBe(before);
  });

  it('refuses malformed sends with Graph error 100 naming the problem', async () => {
    const cases: Array<[unknown, string]> = [
      [{ messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } }, 'to'],
      [{ messaging_product: 'whatsapp', to: '447700900123', type: 'text', text: {} }, 'text.body'],
      [{ messaging_product: 'whatsapp', to: '447700900123', type: 'text', text: { body: 'x'.repeat(4097) } }, 'text.body'],
      [{ messaging_product: 'whatsapp', to: '447700900123', type: 'document', document: { caption: 'no file' } }, 'document'],
      [{ messaging_product: 'whatsapp', to: '447700900123', type: 'carrier_pigeon' }, 'type'],
      [{ to: '447700900123', type: 'text', text: { body: 'x' } }, 'messaging_product'],
    ];
    for (const [body, field] of cases) {
      const response = await send(body);
      expect(response.status).toBe(400);
      const { error } = response.json() as { error: { code: number; error_data: { details: string } } };
      expect(error.code).toBe(100);
      expect(error.error_data.details).toContain(field);
    }
  });

  it('refuses a send from a phone number id it does not have', async () => {
    const response = await send({ messaging_product: 'whatsapp', to: '447700900123', type: 'text', text: { body: 'x' } }, auth, '111111111111111');
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: { type: 'GraphMethodException', code: 100, error_subcode: 33 } });
  });

  it('accepts template, media-by-id and reaction sends, and read receipts', async () => {
    const base = { messaging_product: 'whatsapp', to: '447700900123' };
    expect((await send({ ...base, type: 'template', template: { name: 'appointment_reminder', language: { code: 'en_GB' } } })).status).toBe(200);
    expect((await send({ ...base, type: 'document', document: { id: '1037543291543636', filename: 'Letter.pdf' } })).status).toBe(200);
    expect((await send({ ...base, type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '\u{1F44D}' } })).status).toBe(200);
    const read = await send({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.READ1' });
    expect(read.json()).toEqual({ success: true });
    expect(sim.readReceipts).toContain('wamid.READ1');
  });

  it('fails the next sends on request, e.g. outside the customer-service window', async () => {
    sim.failNextSends(1, 400, 131047);
    const body = { messaging_product: 'whatsapp', to: '447700900123', type: 'text', text: { body: 'late reply' } };
    expect(await send(body)).toMatchObject({ status: 400 });
    expect((await send(body)).status).toBe(200);
  });

  it('takes the next sends and closes the connection before answering, on request', async () => {
    const before = sim.sent.length;
    sim.loseNextSendAnswers(1);
    const body = { messaging_product: 'whatsapp', to: '447700900123', type: 'text', text: { body: 'answer lost' } };
    await expect(send(body)).rejects.toThrow(/fetch failed/);
    expect(sim.sent.slice(before)).toEqual([expect.objectContaining({ body, waMessageId: expect.stringMatching(/^wamid\./) })]);
    expect((await send(body)).status).toBe(200);
    expect(sim.sent.length - before).toBe(2);
  });
});

describe('simulator media endpoints', () => {
  it('looks media up as documented and serves it only with the bearer token', async () => {
    const bytes = Buffer.from('\x89PNG fake image bytes');
    const media = sim.addMedia(bytes, 'image/png');
    expect(media.sha256).toBe(createHash('sha256').update(bytes).digest('base64'));

    const lookup = await call(`/v23.0/${media.id}?phone_number_id=${sim.business.phoneNumberId}`, { headers: auth });
    const info = lookup.json() as { url: string };
    expect(info).toEqual({ messaging_product: 'whatsapp', url: expect.stringContaining(sim.url), mime_type: 'image/png', sha256: createHash('sha256').update(bytes).digest('hex'), file_size: bytes.length, id: media.id });

    expect((await fetch(info.url)).status).toBe(401);
    const download = await fetch(info.url, { headers: auth });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toContain('image/png');
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refuses a lookup without the token and a forged download URL', async () => {
    const media = sim.addMedia(Buffer.from('x'), 'image/png');
    expect((await call(`/v23.0/${media.id}`)).status).toBe(401);
    const info = (await call(`/v23.0/${media.id}`, { headers: auth })).json() as { url: string };
    const forged = new URL(info.url);
    forged.searchParams.set('ext', String(Date.now() + 3_600_000));
    expect((await fetch(forged, { headers: auth })).status).toBe(404);
  });

  it('accepts a multipart upload and serves the uploaded media', async () => {
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', 'application/pdf');
    form.set('file', new Blob([Buffer.from('%PDF-1.7 engagement letter')], { type: 'application/pdf' }), 'letter.pdf');
    const upload = await call(`/v23.0/${sim.business.phoneNumberId}/media`, { method: 'POST', headers: auth, body: form });
    expect(upload.status).toBe(200);
    const { id } = upload.json() as { id: string };
    expect(id).toMatch(/^\d{16}$/);
    const info = (await call(`/v23.0/${id}`, { headers: auth })).json() as { url: string; mime_type: string };
    expect(info.mime_type).toBe('application/pdf');
    expect(await (await fetch(info.url, { headers: auth })).text()).toBe('%PDF-1.7 engagement letter');
  });

  it('takes an upload from its client and serves it in the two documented steps, bearer-checked, byte for byte', async () => {
    const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256)), Buffer.from('\r\n--not-a-boundary\r\n')]);
    const { id } = await uploadMedia({ simulatorUrl: `${sim.url}/`, accessToken, phoneNumberId: sim.business.phoneNumberId, bytes, mimeType: 'application/pdf', filename: 'Letter.pdf' });
    const lookup = await call(`/v23.0/${id}?phone_number_id=${sim.business.phoneNumberId}`, { headers: auth });
    const info = lookup.json() as { url: string; mime_type: string; sha256: string; file_size: number };
    expect(info).toMatchObject({ mime_type: 'application/pdf', sha256: createHash('sha256').update(bytes).digest('hex'), file_size: bytes.length });
    expect((await call(`/v23.0/${id}`)).status).toBe(401);
    expect((await fetch(info.url)).status).toBe(401);
    const downloaded = Buffer.from(await (await fetch(info.url, { headers: auth })).arrayBuffer());
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(info.sha256);
  });

  it("refuses its client's upload with another token, to another number, or to something that is not a simulator", async () => {
    const upload = { simulatorUrl: sim.url, accessToken, phoneNumberId: sim.business.phoneNumberId, bytes: Buffer.from('x'), mimeType: 'text/plain', filename: 'x.txt' };
    await expect(uploadMedia({ ...upload, accessToken: 'not-the-token' })).rejects.toThrow(/refused the upload with HTTP 401 \(the access token is not the one/);
    await expect(uploadMedia({ ...upload, phoneNumberId: '111111111111111' })).rejects.toThrow(/refused the upload with HTTP 400/);
    const seen: string[] = [];
    const other = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.end('{"id":"1"}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      await expect(uploadMedia({ ...upload, simulatorUrl: `http://127.0.0.1:${(other.address() as AddressInfo).port}` })).rejects.toThrow(/is not a wa-bridge simulator/);
      expect(seen).toEqual(['GET / ']);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('labels itself as a simulator', async () => {
    const root = await call('/');
    expect(root.text).toContain('test double');
    expect(root.headers.get('x-simulator')).toContain('not Meta');
  });
});

describe('simulator postWebhook', () => {
  it('signs exactly the bytes it posts, serialized with escaped unicode like Meta', async () => {
    const received: Array<{ body: Buffer; signature: string | undefined }> = [];
    const target = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks), signature: req.headers['x-hub-signature-256'] as string | undefined });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    try {
      sim.webhookUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/webhooks/whatsapp`;
      const envelope = sim.inboundMessage({ from: '447700900321', name: 'Zoë', type: 'text', body: 'see https://x.example/a 👍' });
      expect(await sim.postWebhook(envelope)).toEqual({ status: 200, body: '{}' });
      await sim.postWebhook(envelope, { signature: 'none' });
      await sim.postWebhook('{"raw":true}', { signature: 'bad' });

      const [signed, unsigned, bad] = received;
      const text = signed?.body.toString('utf8') ?? '';
      expect(text).toContain('Zo\\u00eb');
      expect(text).toContain('https:\\/\\/x.example');
      expect(text).toContain('\\ud83d\\udc4d');
      expect(JSON.parse(text)).toEqual(envelope);
      expect(signed?.signature).toBe(`sha256=${createHmac('sha256', appSecret).update(signed?.body ?? '').digest('hex')}`);
      expect(unsigned?.signature).toBeUndefined();
      expect(bad?.body.toString()).toBe('{"raw":true}');
      expect(bad?.signature).not.toBe(`sha256=${createHmac('sha256', appSecret).update('{"raw":true}').digest('hex')}`);
    } finally {
      sim.webhookUrl = undefined;
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });

  it('says clearly when it has nowhere to post', async () => {
    await expect(sim.postWebhook({})).rejects.toThrow(/webhookUrl/);
  });
});

describe('simulator autoStatuses', () => {
  it('posts signed sent, delivered and read statuses for an accepted send, in order, and stops on stop()', async () => {
    const received: Array<{ status: string; id: string; recipient: string; callback: string | undefined; signed: boolean; at: number }> = [];
    const target = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const envelope = JSON.parse(body.toString('utf8')) as {
          entry: Array<{ changes: Array<{ value: { statuses: Array<{ id: string; status: string; recipient_id: string; biz_opaque_callback_data?: string }> } }> }>;
        };
        const status = envelope.entry[0]!.changes[0]!.value.statuses[0]!;
        const signed = req.headers['x-hub-signature-256'] === `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
        received.push({ status: status.status, id: status.id, recipient: status.recipient_id, callback: status.biz_opaque_callback_data, signed, at: Date.now() });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const auto = await startSimulator({ appSecret, accessToken, autoStatuses: true, webhookUrl: `http://127.0.0.1:${(target.address() as AddressInfo).port}/webhooks/whatsapp` });
    try {
      const post = (to: string, callback?: string) =>
        fetch(`${auto.url}/v23.0/${auto.business.phoneNumberId}/messages`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...auth },
          body: JSON.stringify({ messaging_product: 'whatsapp', to, type: 'text', text: { body: 'Hi' }, ...(callback ? { biz_opaque_callback_data: callback } : {}) }),
        });
      const start = Date.now();
      const { messages } = (await (await post('+44 7700 900123')).json()) as { messages: Array<{ id: string }> };
      const wamid = messages[0]!.id;
      await expect.poll(() => auto.deliveryState(wamid), { timeout: 5000, interval: 50 }).toBe('read');
      expect(received.map((one) => one.status)).toEqual(['sent', 'delivered', 'read']);
      expect(received.every((one) => one.id === wamid && one.recipient === '447700900123' && one.signed && one.callback === undefined)).toBe(true);
      expect(received[1]!.at - start).toBeGreaterThanOrEqual(450);
      expect(received[2]!.at - start).toBeGreaterThanOrEqual(1400);

      // The callback data a send carried comes back on its statuses, even when its answer was lost.
      auto.loseNextSendAnswers(1);
      await expect(post('447700900124', 'reply:7:0')).rejects.toThrow(/fetch failed/);
      await expect.poll(() => received.filter((one) => one.recipient === '447700900124').length, { timeout: 5000, interval: 50 }).toBe(3);
      expect(received.filter((one) => one.recipient === '447700900124').map((one) => one.callback)).toEqual(['reply:7:0', 'reply:7:0', 'reply:7:0']);

      // A send just before stop() gets at most its first status; its later ones never go out.
      await post('447700900999');
      await auto.stop();
      const count = received.length;
      await new Promise((resolve) => setTimeout(resolve, 1700));
      expect(received.length).toBeLessThanOrEqual(count + 1);
      expect(received.filter((one) => one.recipient === '447700900999' && one.status !== 'sent')).toEqual([]);
    } finally {
      await auto.stop().catch(() => undefined);
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });

  it('is off by default', async () => {
    const { messages } = (await (await send({ messaging_product: 'whatsapp', to: '447700900123', type: 'text', text: { body: 'Hi' } })).json()) as { messages: Array<{ id: string }> };
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sim.deliveryState(messages[0]!.id)).toBeUndefined();
  });
});
