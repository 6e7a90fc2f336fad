import express from 'express';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { problemHandler } from '../../api/problem.js';
import type { NormalizedBatch } from '../../core/events.js';
import { startSimulator, type Simulator } from '../simulator/server.js';
import { createCloudWebhook } from './webhook.js';

const appSecret = 'test-app-secret-3f9a1c';
const verifyToken = 'test-verify-token-77b2';
const fixtures = new URL('../../../../tests/fixtures/cloud-api/', import.meta.url);
const fixtureBytes = (name: string): Buffer => readFileSync(new URL(name, fixtures));
const sign = (body: Uint8Array, key = appSecret) => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

interface Bridge {
  url: string;
  batches: NormalizedBatch[];
  server: Server;
}

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

type EntryPoint = 'express' | 'direct';

/**
 * A real express app on loopback with the router mounted where app.ts mounts it. With `direct`,
 * the HTTP server listens with the webhook's listener in front of the app, as app.ts does;
 * `expressCalls` counts the requests that reached the app.
 */
async function startBridgeAt(
  options: { onBatch?: (batch: NormalizedBatch) => Promise<void>; maxBodyBytes?: number; entry?: EntryPoint } = {},
): Promise<Bridge & { expressCalls: string[] }> {
  const batches: NormalizedBatch[] = [];
  const expressCalls: string[] = [];
  const webhook = createCloudWebhook({
    appSecret,
    verifyToken,
    maxBodyBytes: options.maxBodyBytes,
    onBatch: async (batch) => {
      await options.onBatch?.(batch);
      batches.push(batch);
    },
  });
  const app = express();
  app.use((req, _res, next) => {
    expressCalls.push(`${req.method} ${req.originalUrl}`);
    next();
  });
  app.use('/webhooks/whatsapp', webhook.router);
  const quiet = { error: () => undefined };
  app.use(problemHandler(quiet));
  const server = createServer(options.entry === 'direct' ? webhook.listener(app, { logger: quiet }) : app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  running.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp`, batches, server, expressCalls };
}

async function post(bridge: Bridge, body: Uint8Array | string, headers: Record<string, string> = {}) {
  const response = await fetch(bridge.url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

describe.each([
  ['through express', 'express'],
  ['answered before express', 'direct'],
] as const)('POST /webhooks/whatsapp %s', (_name, entry) => {
  const startBridge = (options: Parameters<typeof startBridgeAt>[0] = {}) => startBridgeAt({ entry, ...options });

  it('hands a signed delivery to onBatch and answers 200 only after it resolves', async () => {
    let committed = false;
    const bridge = await startBridge({
      onBatch: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        committed = true;
      },
    });
    const body = fixtureBytes('text-reply-quoting-business-message.json');
    const response = await post(bridge, body, { 'X-Hub-Signature-256': sign(body) });
    expect(committed).toBe(true);
    expect(response).toMatchObject({ status: 200, text: '{}' });
    expect(bridge.batches).toHaveLength(1);
    expect(bridge.batches[0]?.events[0]).toMatchObject({ kind: 'message', content: { type: 'text' } });
  });

  it('rejects a webhook whose signature does not match and stores nothing', async () => {
    const bridge = await startBridge();
    const body = fixtureBytes('text-reply-quoting-business-message.json');
    const response = await post(bridge, body, { 'X-Hub-Signature-256': sign(body, 'some-other-app-secret') });
    expect(response.status).toBe(401);
    expect(response.type).toContain('application/problem+json');
    expect(JSON.parse(response.text)).toMatchObject({ status: 401, code: 'signature_mismatch' });
    expect(bridge.batches).toEqual([]);
  });

  it('rejects a webhook without a signature and stores nothing', async () => {
    const bridge = await startBridge();
    const response = await post(bridge, fixtureBytes('text-reply-quoting-business-message.json'));
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toMatchObject({ code: 'signature_missing' });
    expect(bridge.batches).toEqual([]);
  });

  it('rejects a malformed signature header', async () => {
    const bridge = await startBridge();
    const body = fixtureBytes('text-reply-quoting-business-message.json');
    for (const header of ['sha1=0123abcd', sign(body).slice(0, -2), `sha256 ${sign(body).slice(7)}`]) {
      const response = await post(bridge, body, { 'X-Hub-Signature-256': header });
      expect(response.status).toBe(401);
      expect(JSON.parse(response.text)).toMatchObject({ code: 'signature_mismatch' });
    }
    expect(bridge.batches).toEqual([]);
  });

  it('rejects a body altered by one byte after signing', async () => {
    const bridge = await startBridge();
    const body = fixtureBytes('text-reply-quoting-business-message.json');
    const signature = sign(body);
    const altered = Buffer.from(body);
    const at = altered.indexOf('3pm');
    altered[at] = '4'.charCodeAt(0);
    const response = await post(bridge, altered, { 'X-Hub-Signature-256': signature });
    expect(response.status).toBe(401);
    expect(bridge.batches).toEqual([]);
  });

  it('checks the bytes received, not a re-serialization of the parsed JSON', async () => {
    const bridge = await startBridge();
    const body = fixtureBytes('text-meta-escaped-unicode.json');
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));
    expect(reserialized.equals(body)).toBe(false);

    expect((await post(bridge, body, { 'X-Hub-Signature-256': sign(reserialized) })).status).toBe(401);
    expect(bridge.batches).toEqual([]);

    expect((await post(bridge, body, { 'X-Hub-Signature-256': sign(body) })).status).toBe(200);
    expect(bridge.batches[0]?.events[0]).toMatchObject({ client: { name: 'Zoë Brontë' }, content: { body: 'Café at 10? The deed is at https://docs.example/deed \u{1F44D}' } });
  });

  it('reads the raw body whatever the content type says', async () => {
    const bridge = await startBridge();
    const body = fixtureBytes('location-pin.json');
    const response = await post(bridge, body, { 'Content-Type': 'text/plain', 'X-Hub-Signature-256': sign(body) });
    expect(response.status).toBe(200);
  });

  it('answers 413 for a body over the limit without reading it into onBatch', async () => {
    const bridge = await startBridge({ maxBodyBytes: 1024 });
    const body = Buffer.alloc(4096, 0x20);
    const response = await post(bridge, body, { 'X-Hub-Signature-256': sign(body) });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text)).toMatchObject({ code: 'payload_too_large' });
    expect(bridge.batches).toEqual([]);
  });

  it("accepts bodies of Meta's full 3 MB by default", async () => {
    const bridge = await startBridge();
    const body = Buffer.alloc(3 * 1024 * 1024, 0x20);
    const response = await post(bridge, body, { 'X-Hub-Signature-256': sign(body) });
    // Read and signature-checked, then refused as JSON: not cut off at the size limit.
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toMatchObject({ code: 'bad_json' });
  });

  it('answers 413 for a chunked body that grows past the limit, and stays up', async () => {
    const bridge = await startBridge({ maxBodyBytes: 4096 });
    const chunk = Buffer.alloc(1024, 0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 16) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(bridge.url, { method: 'POST', headers: { 'X-Hub-Signature-256': sign(chunk) }, body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(JSON.parse(await response.text())).toMatchObject({ code: 'payload_too_large' });
    const body = fixtureBytes('location-pin.json');
    expect((await post(bridge, body, { 'X-Hub-Signature-256': sign(body) })).status).toBe(200);
    expect(bridge.batches).toHaveLength(1);
  });

  it('answers 400 for a signed body that is not JSON, without quoting it', async () => {
    const bridge = await startBridge();
    const body = Buffer.from('{"object": "whatsapp_business_account", confidential client text');
    const response = await post(bridge, body, { 'X-Hub-Signature-256': sign(body) });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toMatchObject({ code: 'bad_json' });
    expect(response.text).not.toContain('confidential');
  });

  it('answers 400 with every field problem for a signed body that is not the documented envelope', async () => {
    const bridge = await startBridge();
    const body = Buffer.from(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: {}, messages: [{ id: 'wamid.X', type: 'text', text: { body: 'private words' } }] } }] }],
      }),
    );
    const response = await post(bridge, body, { 'X-Hub-Signature-256': sign(body) });
    expect(response.status).toBe(400);
    const problem = JSON.parse(response.text) as { code: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe('bad_payload');
    expect(problem.errors.map((e) => e.path)).toEqual(['entry[0].changes[0].value.metadata.phone_number_id', 'entry[0].changes[0].value.messages[0].timestamp']);
    expect(response.text).not.toContain('private words');
    expect(bridge.batches).toEqual([]);
  });

  it('answers 5xx when onBatch fails, so Meta redelivers', async () => {
    const bridge = await startBridge({
      onBatch: async () => {
        throw new Error(`store unavailable while saving "Yes, 3pm on Friday works" with ${appSecret}`);
      },
    });
    const body = fixtureBytes('text-reply-quoting-business-message.json');
    const response = await post(bridge, body, { 'X-Hub-Signature-256': sign(body) });
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(JSON.parse(response.text)).toMatchObject({ code: 'internal_error' });
    expect(response.text).not.toContain('3pm');
    expect(response.text).not.toContain(appSecret);
  });

  it('accepts what the simulator signs and posts', async () => {
    const bridge = await startBridge();
    const simulator: Simulator = await startSimulator({ appSecret, accessToken: 'sim-token', webhookUrl: bridge.url });
    running.push({ close: () => simulator.stop() });
    const response = await simulator.postWebhook(simulator.inboundMessage({ from: '447700900123', name: 'Jane Smith', type: 'text', body: 'Sent from the simulator ✓' }));
    expect(response).toEqual({ status: 200, body: '{}' });
    expect(bridge.batches[0]?.events[0]).toMatchObject({ content: { body: 'Sent from the simulator ✓' }, client: { waId: '447700900123' } });
    expect((await simulator.postWebhook(simulator.inboundMessage({ from: '447700900123', type: 'text', body: 'x' }), { signature: 'bad' })).status).toBe(401);
    expect((await simulator.postWebhook(simulator.inboundMessage({ from: '447700900123', type: 'text', body: 'x' }), { signature: 'none' })).status).toBe(401);
    expect(bridge.batches).toHaveLength(1);
  });
});

describe('which deliveries are answered before express', () => {
  it('takes a plain POST to the webhook path directly, and leaves the handshake to express', async () => {
    const bridge = await startBridgeAt({ entry: 'direct' });
    const body = fixtureBytes('location-pin.json');
    expect((await post(bridge, body, { 'X-Hub-Signature-256': sign(body) })).status).toBe(200);
    expect((await fetch(`${bridge.url}?x=1`, { method: 'POST', headers: { 'X-Hub-Signature-256': sign(body) }, body })).status).toBe(200);
    expect(bridge.expressCalls).toEqual([]);
    const handshake = await fetch(`${bridge.url}?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=7`);
    expect(await handshake.text()).toBe('7');
    expect(bridge.expressCalls).toEqual([`GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=7`]);
    expect(bridge.batches).toHaveLength(2);
  });

  it('sends other spellings of the path and compressed bodies through express, which answers them as before', async () => {
    const bridge = await startBridgeAt({ entry: 'direct' });
    const body = fixtureBytes('location-pin.json');
    const origin = new URL(bridge.url).origin;
    expect((await fetch(`${origin}/webhooks/whatsapp/`, { method: 'POST', headers: { 'X-Hub-Signature-256': sign(body) }, body })).status).toBe(200);
    expect((await fetch(`${origin}/Webhooks/WhatsApp`, { method: 'POST', headers: { 'X-Hub-Signature-256': sign(body) }, body })).status).toBe(200);
    // body-parser inflates a compressed body before the signature is checked on it.
    const zipped = gzipSync(body);
    const compressed = await fetch(bridge.url, { method: 'POST', headers: { 'Content-Encoding': 'gzip', 'X-Hub-Signature-256': sign(body) }, body: zipped });
    expect(compressed.status).toBe(200);
    const wrong = await fetch(bridge.url, { method: 'POST', headers: { 'Content-Encoding': 'gzip', 'X-Hub-Signature-256': sign(zipped) }, body: zipped });
    expect(wrong.status).toBe(401);
    expect(bridge.expressCalls).toEqual(['POST /webhooks/whatsapp/', 'POST /Webhooks/WhatsApp', 'POST /webhooks/whatsapp', 'POST /webhooks/whatsapp']);
    expect(bridge.batches).toHaveLength(3);
  });
});

describe('GET /webhooks/whatsapp (verification)', () => {
  const verify = async (bridge: Bridge, query: string) => {
    const response = await fetch(`${bridge.url}?${query}`);
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };

  it('echoes the raw challenge for subscribe with the right token', async () => {
    const bridge = await startBridgeAt();
    const response = await verify(bridge, `hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=1158201444`);
    expect(response).toMatchObject({ status: 200, text: '1158201444' });
    expect(response.type).toContain('text/plain');
  });

  it.each([
    ['a wrong token', `hub.mode=subscribe&hub.verify_token=${verifyToken}x&hub.challenge=42`],
    ['a token prefix', `hub.mode=subscribe&hub.verify_token=${verifyToken.slice(0, 5)}&hub.challenge=42`],
    ['another mode', `hub.mode=unsubscribe&hub.verify_token=${verifyToken}&hub.challenge=42`],
    ['no token', 'hub.mode=subscribe&hub.challenge=42'],
    ['no challenge', `hub.mode=subscribe&hub.verify_token=${verifyToken}`],
  ])('refuses %s with 403 and a problem document', async (_case, query) => {
    const bridge = await startBridgeAt();
    const response = await verify(bridge, query);
    expect(response.status).toBe(403);
    expect(response.type).toContain('application/problem+json');
    expect(response.text).not.toContain(verifyToken);
  });
});
