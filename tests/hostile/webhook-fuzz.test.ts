import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWebhookBodyLimit } from '../../bridge-server/src/channels/cloud-api/webhook.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startBridgeWorld, testSecrets, waitFor, type BridgeWorld } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { digestTables, fuzzParameters, fuzzTimeout, lastRowIds, prototypeShape, unfinishedJobs } from './support.js';

/**
 * Hostile Cloud API deliveries against a real bridge over real HTTP: fuzzed signatures, and
 * correctly signed bodies that are structurally hostile. Whatever arrives, the answer is a 401, a
 * problem document or a 200; never a 5xx; and what was archived before stays exactly as it was.
 */

const fixtureDir = path.resolve(import.meta.dirname, '../fixtures/cloud-api');
const fixtures = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, json: JSON.parse(readFileSync(path.join(fixtureDir, name), 'utf8')) as unknown }));

let catcher: MailCatcher;
let world: BridgeWorld;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const before = { prototype: '' };

beforeAll(async () => {
  catcher = await startMailCatcher({ keep: 5000 });
  world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitors@firm.test' });
  before.prototype = prototypeShape();
  // History that must survive everything below: two clients, text and a photo.
  const photo = world.simulator.addMedia(Buffer.from('\xff\xd8\xff\xe0 a photo of the lease', 'latin1'), 'image/jpeg');
  for (const envelope of [
    world.simulator.inboundMessage({ from: '447700900111', name: 'Jane Smith', type: 'text', body: 'The lease is signed.' }),
    world.simulator.inboundMessage({ from: '447700900111', name: 'Jane Smith', type: 'image', media: photo, caption: 'page 4' }),
    world.simulator.inboundMessage({ from: '447700900222', name: 'Amy Jones', type: 'text', body: 'Can we talk on Friday?' }),
  ]) {
    expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
  }
  await waitFor(async () => (await unfinishedJobs(db())) === 0, 20_000, () => 'the history was not relayed');
});

afterAll(async () => {
  agent.destroy();
  await world?.stop();
  await catcher?.stop();
});

const db = () => world.bridge.store.db;

interface Counts {
  events: number;
  conversations: number;
  attachments: number;
  statuses: number;
  lastEvent: number;
}

async function counts(): Promise<Counts> {
  const row = (
    await sql<Counts>`SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM conversations) AS conversations,
      (SELECT count(*) FROM attachments) AS attachments, (SELECT count(*) FROM statuses) AS statuses,
      (SELECT coalesce(max(id), 0) FROM events) AS lastEvent`.execute(db())
  ).rows[0]!;
  return { events: Number(row.events), conversations: Number(row.conversations), attachments: Number(row.attachments), statuses: Number(row.statuses), lastEvent: Number(row.lastEvent) };
}

interface Answer {
  status: number;
  type: string;
  text: string;
}

/** One POST over a kept-alive connection, as Meta's senders make them. */
function post(body: Buffer, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(`${world.bridge.url}/webhooks/whatsapp`);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sign = (body: Uint8Array, key = testSecrets.appSecret) => createHmac('sha256', key).update(body).digest('hex');

/** Problem documents carry a stable code and a detail, and never echo the body back. */
function expectProblem(answer: Answer, status: number, codes: readonly string[]): void {
  expect(answer.status).toBe(status);
  expect(answer.type).toContain('application/problem+json');
  const problem = JSON.parse(answer.text) as { status: number; code: string; detail: string };
  expect(problem.status).toBe(status);
  expect(codes).toContain(problem.code);
  expect(problem.detail).toMatch(/\S/);
}

let serial = 0;
/** A documented delivery with fresh message ids, so that storing it would show. */
function freshDelivery(index: number): string {
  serial += 1;
  const text = JSON.stringify(fixtures[index % fixtures.length]!.json);
  return text.replace(/"wamid\.([A-Za-z0-9=_-]*)"/g, (_m, id: string) => `"wamid.FUZZ${serial}x${id.slice(0, 24)}"`);
}

describe('webhook signatures', () => {
  type SignatureCase =
    | { kind: 'none' }
    | { kind: 'blank'; value: string }
    | { kind: 'other-key'; key: string }
    | { kind: 'truncated'; keep: number }
    | { kind: 'flipped'; at: number }
    | { kind: 'prefix'; prefix: string }
    | { kind: 'other-body'; cut: number; extra: Uint8Array }
    | { kind: 'junk'; value: string };

  const signatureCase: fc.Arbitrary<SignatureCase> = fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.constantFrom('', ' ', '\t', 'sha256=', 'sha256').map((value) => ({ kind: 'blank' as const, value })),
    fc.string({ minLength: 0, maxLength: 40 }).filter((key) => key !== testSecrets.appSecret).map((key) => ({ kind: 'other-key' as const, key })),
    fc.integer({ min: 0, max: 63 }).map((keep) => ({ kind: 'truncated' as const, keep })),
    fc.integer({ min: 0, max: 63 }).map((at) => ({ kind: 'flipped' as const, at })),
    fc.constantFrom('sha1=', 'SHA-256=', 'sha256:', 'sha512=', '', 'sha256= ', 'sha256==').map((prefix) => ({ kind: 'prefix' as const, prefix })),
    fc.record({ cut: fc.integer({ min: 1, max: 200 }), extra: fc.uint8Array({ maxLength: 8 }) }).map((r) => ({ kind: 'other-body' as const, ...r })),
    fc.string({ unit: 'binary-ascii', maxLength: 120 }).map((value) => ({ kind: 'junk' as const, value })),
  );

  /** The header for `body`, or undefined to send none; the signed bytes may differ from those sent. */
  function signatureFor(body: Buffer, c: SignatureCase): { header: string | undefined; sent: Buffer } {
    const right = sign(body);
    switch (c.kind) {
      case 'none':
        return { header: undefined, sent: body };
      case 'blank':
        return { header: c.value, sent: body };
      case 'other-key':
        return { header: `sha256=${sign(body, c.key)}`, sent: body };
      case 'truncated':
        return { header: `sha256=${right.slice(0, c.keep)}`, sent: body };
      case 'flipped':
        return { header: `sha256=${right.slice(0, c.at)}${right[c.at] === '0' ? '1' : '0'}${right.slice(c.at + 1)}`, sent: body };
      case 'prefix':
        return { header: `${c.prefix}${right}`, sent: body };
      case 'other-body': {
        // Signed over the whole body, sent cut short (or lengthened): a truncated delivery.
        const sent = Buffer.concat([body.subarray(0, Math.max(0, body.length - c.cut)), Buffer.from(c.extra)]);
        return { header: `sha256=${right}`, sent: sent.equals(body) ? Buffer.concat([body, Buffer.from(' ')]) : sent };
      }
      case 'junk':
        return { header: c.value, sent: body };
    }
  }

  it('answers 401 to every unsigned, wrongly signed or cut delivery, and stores nothing', { timeout: fuzzTimeout(300_000) }, async () => {
    const start = await counts();
    const bodyArb = fc.oneof(
      { weight: 4, arbitrary: fc.nat({ max: fixtures.length - 1 }).map((i) => Buffer.from(freshDelivery(i))) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)) },
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, signatureCase, async (body, c) => {
        const { header, sent } = signatureFor(body, c);
        // Node refuses to send a header value with control characters; that case is the
        // same to the bridge as a missing header.
        const usable = header !== undefined && ![...header].some((ch) => (ch < ' ' && ch !== '\t') || ch === '\x7f') ? header : undefined;
        const answer = await post(sent, usable === undefined ? {} : { 'x-hub-signature-256': usable });
        expectProblem(answer, 401, ['signature_missing', 'signature_mismatch']);
        expect(answer.text).not.toContain(testSecrets.appSecret);
      }),
      fuzzParameters(1500),
    );
    expect(await counts()).toEqual(start);
  });
});

describe('correctly signed, structurally hostile deliveries', () => {
  /** A value to put somewhere in a delivery: JSON, or raw bytes spliced into the text as they are. */
  type Hostile = { json: unknown } | { raw: string | Buffer } | { nest: { depth: number; shape: 'array' | 'object' } };

  const nested = (depth: number, open: string, inner: string, close: string) => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
  const hostileKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'then', '', 'type', 'id', 'text', 'errors'];

  const hostileValue: fc.Arbitrary<Hostile> = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((json) => ({ json })),
    fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 53 + 1, '', [], {}, '1706715000', 'text', 'wamid.X', '447700900123').map((json) => ({ json })),
    fc.string({ unit: 'binary', maxLength: 60 }).map((json) => ({ json })),
    // Around the 64 KiB text limit and far past it.
    fc.integer({ min: 65_000, max: 300_000 }).map((n) => ({ json: 'A'.repeat(n) })),
    fc.record({ depth: fc.integer({ min: 1, max: 60_000 }), shape: fc.constantFrom('array' as const, 'object' as const) }).map((nest) => ({ nest })),
    fc
      .constantFrom(
        '1e400',
        '-1e400',
        '-0',
        '123456789012345678901234567890',
        '1e-400',
        '"\\ud800"',
        '"\\udfff\\ud800 x"',
        '"\\u0000\\r\\nBcc: mallory@evil.test"',
        '{"__proto__":{"polluted":"yes"}}',
        '{"constructor":{"prototype":{"polluted":"yes"}}}',
        '{"__proto__":{"text":{"body":7},"type":"text"}}',
        '{"id":"x","id":7}',
        '[{"__proto__":[]}]',
      )
      .map((raw) => ({ raw })),
    // Bytes that are not UTF-8, inside a JSON string.
    fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => ({ raw: Buffer.concat([Buffer.from('"'), Buffer.from(bytes.map((b) => b | 0x80)), Buffer.from('"')]) })),
  );

  type Op =
    | { op: 'set'; at: number; value: Hostile }
    | { op: 'delete'; at: number }
    | { op: 'add'; at: number; key: string; value: Hostile }
    | { op: 'type'; at: number; type: string };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: hostileValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...hostileKeys), fc.string({ maxLength: 12 })), value: hostileValue }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('type' as const),
        at: fc.nat(),
        type: fc.oneof(fc.constantFrom('poll', 'order', 'request_welcome', 'ephemeral', 'hsm', 'edit', 'revoke', 'reaction', 'unknown', '__proto__', 'constructor', 'system', 'contacts'), fc.string({ minLength: 1, maxLength: 20 })),
      }),
    },
  );

  type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
  type Container = Json[] | { [key: string]: Json };

  /** Every object and array of the delivery, with a way to reach each slot. */
  function containers(root: Json): Container[] {
    const out: Container[] = [];
    const stack: Json[] = [root];
    while (stack.length > 0) {
      const value = stack.pop()!;
      if (value === null || typeof value !== 'object') continue;
      out.push(value);
      for (const child of Object.values(value)) stack.push(child);
    }
    return out;
  }

  /**
   * Applies the ops to a fresh delivery. Raw values go in as placeholder strings that are
   * replaced in the serialized text, so they arrive exactly as written (deep nesting that the
   * test's own JSON.stringify could not write, bytes that are not UTF-8, duplicate keys).
   */
  function build(fixture: number, ops: Op[]): Buffer {
    const root = JSON.parse(freshDelivery(fixture)) as Json;
    const raws: Array<string | Buffer> = [];
    const place = (value: Hostile): Json => {
      // A copy: the generated value must stay as generated for shrinking and for the report.
      if ('json' in value) return structuredClone(value.json) as Json;
      // Nesting is written when the body is serialized (kept small here so a failing case prints short).
      if ('nest' in value) raws.push(value.nest.shape === 'array' ? nested(value.nest.depth, '[', '1', ']') : nested(value.nest.depth, '{"a":', '1', '}'));
      else raws.push(value.raw);
      return `\u0001RAW${raws.length - 1}\u0001`;
    };
    for (const op of ops) {
      const all = containers(root);
      const target = all[op.at % all.length]!;
      const keys = Object.keys(target);
      if (op.op === 'type') {
        const messages = all.filter((c): c is { [key: string]: Json } => !Array.isArray(c) && typeof c.type === 'string' && 'timestamp' in c);
        const message = messages[op.at % Math.max(messages.length, 1)];
        if (message) message.type = op.type;
      } else if (op.op === 'add') {
        if (Array.isArray(target)) target.push(place(op.value));
        else Object.defineProperty(target, op.key, { value: place(op.value), enumerable: true, writable: true, configurable: true });
      } else if (keys.length > 0) {
        const key = keys[op.at % keys.length]!;
        if (op.op === 'set') (target as Record<string, Json>)[key] = place(op.value);
        else if (Array.isArray(target)) target.splice(Number(key), 1);
        else delete target[key];
      }
    }
    const text = JSON.stringify(root);
    const parts: Buffer[] = [];
    let last = 0;
    for (const match of text.matchAll(/"\\u0001RAW(\d+)\\u0001"/g)) {
      parts.push(Buffer.from(text.slice(last, match.index)));
      const raw = raws[Number(match[1])]!;
      parts.push(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
      last = match.index + match[0].length;
    }
    parts.push(Buffer.from(text.slice(last)));
    return Buffer.concat(parts);
  }

  /** Messages in a delivery the bridge accepted (so its body parses as the bridge parsed it). */
  function messagesIn(body: Buffer): number {
    const json = JSON.parse(body.toString('utf8')) as { entry?: Array<{ changes?: Array<{ value?: { messages?: unknown } }> }> };
    let n = 0;
    for (const entry of json.entry ?? []) for (const change of entry.changes ?? []) if (Array.isArray(change.value?.messages)) n += change.value.messages.length;
    return n;
  }

  // Types normalize.ts maps to content of their own; any other type must be archived as unsupported.
  const documentedTypes = new Set(['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'interactive', 'button', 'unsupported', 'system', 'reaction', 'edit', 'revoke']);

  let history: Awaited<ReturnType<typeof digestTables>>;
  let historyRows: Record<string, number>;
  // Rows that change as later events arrive: a conversation's head moves, an attachment is fetched.
  const moving = { conversations: ['last_seq', 'chain_head', 'client_wa_id', 'client_user_id'] };

  beforeAll(async () => {
    historyRows = await lastRowIds(db());
    history = await digestTables(db(), { upTo: historyRows, ignoreColumns: moving });
  });

  it('answers 200 or a 4xx problem to every mutated delivery, never a 5xx, and keeps the archive', { timeout: fuzzTimeout(300_000) }, async () => {
    let accepted = 0;
    let refused = 0;
    let unknownStored = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: fixtures.length - 1 }), fc.array(opArb, { minLength: 1, maxLength: 3 }), async (fixture, ops) => {
        const body = build(fixture, ops);
        const start = await counts();
        const answer = await post(body, { 'x-hub-signature-256': `sha256=${sign(body)}` });
        expect(prototypeShape()).toBe(before.prototype);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        if (body.length > defaultWebhookBodyLimit) {
          expectProblem(answer, 413, ['payload_too_large']);
        } else if (answer.status === 200) {
          accepted += 1;
          expect(answer.text).toBe('{}');
          const after = await counts();
          // At most one event per message delivered (statuses are no events).
          expect(after.events - start.events).toBeLessThanOrEqual(messagesIn(body));
          const stored = await world.bridge.store.db.selectFrom('events').select(['event_json', 'kind', 'content_type']).where('id', '>', start.lastEvent).execute();
          for (const row of stored) {
            const event = JSON.parse(row.event_json) as { kind: string; content?: { type: string }; raw?: { message?: { type?: unknown } } };
            const type = event.raw?.message?.type;
            if (row.kind === 'message' && typeof type === 'string' && !documentedTypes.has(type)) {
              expect(row.content_type).toBe('unsupported');
              unknownStored += 1;
            }
          }
        } else {
          refused += 1;
          expectProblem(answer, 400, ['bad_json', 'bad_payload']);
          expect(await counts()).toEqual(start);
        }
      }),
      fuzzParameters(1200),
    );
    // Both sides of the property were exercised, or it proved little.
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(100);
    expect(unknownStored).toBeGreaterThan(5);
    expect(await digestTables(db(), { upTo: historyRows, ignoreColumns: moving })).toEqual(history);
  });

  it('refuses a body over the limit with 413 before reading it, and a delivery cut off mid-body', async () => {
    const start = await counts();
    const huge = Buffer.concat([Buffer.from(freshDelivery(0).slice(0, -1)), Buffer.from(`,"pad":"${'x'.repeat(defaultWebhookBodyLimit)}"}`)]);
    expectProblem(await post(huge, { 'x-hub-signature-256': `sha256=${sign(huge)}` }), 413, ['payload_too_large']);

    // Content-Length promises more than arrives, then the sender hangs up.
    const body = Buffer.from(freshDelivery(1));
    const url = new URL(world.bridge.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(`POST /webhooks/whatsapp HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Hub-Signature-256: sha256=${sign(body)}\r\n\r\n`);
        socket.end(body.subarray(0, body.length >> 1));
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });
    expect(await counts()).toEqual(start);
    const health = await fetch(`${world.bridge.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('refuses numbers beyond a double and ids outside the chat-key characters, and keeps ids with lone surrogates verifiable', async () => {
    const signed = async (text: string) => {
      const body = Buffer.from(text);
      return post(body, { 'x-hub-signature-256': `sha256=${sign(body)}` });
    };
    const start = await counts();
    const plain = () => JSON.stringify(world.simulator.inboundMessage({ from: '447700900444', name: 'Odd Ids', type: 'text', body: 'hello' }));
    expectProblem(await signed(plain().replace('"type":"text"', '"type":"text","score":1e400')), 400, ['bad_payload']);
    expectProblem(await signed(plain().replace(/"phone_number_id":"[^"]*"/, '"phone_number_id":"1065\\u0000403"')), 400, ['bad_payload']);
    expectProblem(await signed(plain().replace(/"from":"[^"]*"/, '"from":"4477\\ud83d\\ude00"')), 400, ['bad_payload']);
    expect(await counts()).toEqual(start);

    // Cut surrogate pairs can come from a sender that truncates text: kept, as U+FFFD.
    const answer = await signed(plain().replace(/"id":"wamid\.[^"]*"/, '"id":"wamid.cut\\ud83d"').replace('"body":"hello"', '"body":"half an emoji \\ude00"'));
    expect(answer.status).toBe(200);
    const row = await world.bridge.store.db.selectFrom('events').select(['wa_message_id', 'event_json']).where('id', '>', start.lastEvent).executeTakeFirstOrThrow();
    expect(row.wa_message_id).toBe('wamid.cut\ufffd');
    expect((JSON.parse(row.event_json) as { content: { body: string } }).content.body).toBe('half an emoji \ufffd');
  });

  it('stores nesting far deeper than any delivery as unsupported or refuses it, and the archive still verifies', async () => {
    for (const depth of [64, 1_000, 10_000, 200_000]) {
      const start = await counts();
      const envelope = world.simulator.inboundMessage({ from: '447700900333', name: 'Deep Nest', type: 'unsupported', unsupportedType: 'poll' });
      const text = JSON.stringify(envelope).replace('"type":"unsupported"', `"type":"poll","poll":${nested(depth, '[', '"deep"', ']')}`);
      const body = Buffer.from(text);
      const answer = await post(body, { 'x-hub-signature-256': `sha256=${sign(body)}` });
      if (answer.status === 200) {
        const after = await counts();
        expect(after.events).toBe(start.events + 1);
        const row = await world.bridge.store.db.selectFrom('events').select('content_type').where('id', '>', start.lastEvent).executeTakeFirstOrThrow();
        expect(row.content_type).toBe('unsupported');
      } else {
        expectProblem(answer, 400, ['bad_payload', 'bad_json']);
        expect(await counts()).toEqual(start);
      }
    }
    await waitFor(async () => (await unfinishedJobs(db())) === 0, 30_000, () => 'jobs not finished');
    const verify = await runWaBridge(world.dataDir, ['verify']);
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  });
});
