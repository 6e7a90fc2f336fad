import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InboundEvent, NormalizedBatch, StatusEvent } from '../../core/events.js';
import { MemoryMarks } from './catch-up-marks.js';
import { WhatsAppWebChannel } from './channel.js';
import type { WebReaction } from './client-port.js';
import type { WebLogger } from './log-port.js';
import { reconnectDelay } from './reconnect.js';
import { WhatsAppWebSession, type WhatsAppWebSessionOptions } from './session.js';
import { FakeChat, FakeWebClient, loadFixture, toMessage, variant, type MessageJson } from './test-client.js';

const firm = '442071234567';
const jane = '447700900123@c.us';

/**
 * Stands for flows/ingest.ts: it stores each event once under the same unique key (id, kind,
 * version), so a replay is a duplicate, and it can be made to fail like a locked database.
 */
class IngestStandIn {
  readonly stored: InboundEvent[] = [];
  readonly statuses: StatusEvent[] = [];
  readonly batches: NormalizedBatch[] = [];
  failures = 0;
  private readonly keys = new Set<string>();

  readonly onBatch = async (batch: NormalizedBatch): Promise<void> => {
    this.batches.push(batch);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('SQLITE_BUSY: database is locked');
    }
    for (const event of batch.events) {
      const key = `${event.waMessageId}|${event.kind}|${event.versionKey}`;
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      this.stored.push(event);
    }
    this.statuses.push(...batch.statuses);
  };

  /** Marks an event as stored before the test starts (ingested in an earlier run). */
  seed(waMessageId: string): void {
    this.keys.add(`${waMessageId}|message|`);
  }
}

/** Records log lines so a test can check that no message content reaches the log. */
class RecordingLogger implements WebLogger {
  readonly lines: string[] = [];
  debug = (fields: object, message: string) => this.lines.push(JSON.stringify({ level: 'debug', message, ...fields }));
  info = (fields: object, message: string) => this.lines.push(JSON.stringify({ level: 'info', message, ...fields }));
  warn = (fields: object, message: string) => this.lines.push(JSON.stringify({ level: 'warn', message, ...fields }));
  error = (fields: object, message: string) => this.lines.push(JSON.stringify({ level: 'error', message, ...fields }));
}

interface SetupOptions extends Partial<WhatsAppWebSessionOptions> {
  configure?: (client: FakeWebClient, index: number) => void;
  /** Wraps the ingest stand-in, e.g. to hold or fail a delivery. */
  wrapIngest?: (onBatch: IngestStandIn['onBatch']) => WhatsAppWebSessionOptions['onBatch'];
}

function setup({ configure, wrapIngest, ...options }: SetupOptions = {}) {
  const clients: FakeWebClient[] = [];
  const ingest = new IngestStandIn();
  const marks = new MemoryMarks();
  const logger = new RecordingLogger();
  const printed: string[] = [];
  const session = new WhatsAppWebSession({
    createClient: () => {
      const client = new FakeWebClient();
      configure?.(client, clients.length);
      clients.push(client);
      return client;
    },
    onBatch: wrapIngest ? wrapIngest(ingest.onBatch) : ingest.onBatch,
    marks,
    logger,
    print: (text) => printed.push(text),
    random: () => 1,
    ...options,
  });
  const client = (index = clients.length - 1): FakeWebClient => {
    const found = clients[index];
    if (!found) throw new Error(`no client ${index}`);
    return found;
  };
  return { session, clients, client, ingest, marks, logger, printed };
}

const fixture = (name: string) => loadFixture<MessageJson>(name);
const text = fixture('text-from-client.json');
const textAt = (id: string, timestamp: number, body: string) => toMessage(variant(text, { id, timestamp, body }));

let running: WhatsAppWebSession | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  vi.useRealTimers();
});

describe('WhatsAppWebSession linking', () => {
  it('shows each new QR code once, keeps it for the admin page, then becomes ready', async () => {
    const { session, client, printed } = setup();
    running = session;
    const seen: string[] = [];
    session.onStatus((status) => seen.push(status.state));
    session.start();
    await vi.waitFor(() => expect(client().initializeCalls).toBe(1));
    expect(session.status().state).toBe('starting');

    client().emit('qr', '2@Zk9nN1vWq3xE,Jt8mKp0,Qa7bYc==');
    client().emit('qr', '2@Zk9nN1vWq3xE,Jt8mKp0,Qa7bYc==');
    expect(session.status()).toMatchObject({ state: 'qr', qr: '2@Zk9nN1vWq3xE,Jt8mKp0,Qa7bYc==' });
    await vi.waitFor(() => expect(printed).toHaveLength(1));
    expect(printed[0]).toContain('Linked devices');

    client().emit('qr', '2@Rr5tT6yU7iO8,Pp9aAs0,Dd1fFg==');
    await vi.waitFor(() => expect(printed).toHaveLength(2));
    expect(session.status().qr).toBe('2@Rr5tT6yU7iO8,Pp9aAs0,Dd1fFg==');

    // Scanned: the code is used up while WhatsApp Web syncs.
    client().emit('authenticated');
    expect(session.status().state).toBe('starting');
    expect(session.status().qr).toBeUndefined();
    expect(session.readyClient()).toBeUndefined();

    client().becomeReady(firm);
    expect(session.status()).toMatchObject({ state: 'ready', businessId: firm });
    expect(session.readyClient()).toEqual({ client: client(), businessId: firm });
    expect(seen).toEqual(['starting', 'qr', 'qr', 'starting', 'ready']);
  });

  it('keeps a pairing code instead when linking by phone number', async () => {
    const { session, client, printed } = setup();
    running = session;
    session.start();
    await vi.waitFor(() => expect(client().initializeCalls).toBe(1));
    client().emit('code', 'K7PX4Q2M');
    expect(session.status()).toMatchObject({ state: 'pairing-code', pairingCode: 'K7PX4Q2M' });
    expect(printed.join('')).toContain('K7PX4Q2M');
    expect(session.readyClient()).toBeUndefined();
  });
});

describe('WhatsAppWebSession catch-up', () => {
  const t0 = 1763901000;
  const m0 = textAt('3EB0000000000000AA00', t0, 'Earlier message, already archived');
  const m1 = textAt('3EB0000000000000AA01', t0 + 60, 'Sent while the bridge was down');
  const m2 = textAt('3EB0000000000000AA02', t0 + 120, 'Also sent while down');
  const m3 = textAt('3EB0000000000000AA03', t0 + 400, 'Sent after the bridge came back');

  it('hands over what arrived offline, once, before the live events of the chat', async () => {
    const { session, client, ingest, marks } = setup({ configure: (c) => (c.chats = [FakeChat.of(jane, 'Jane Smith', [m0, m1, m2])]) });
    running = session;
    await marks.advance(firm, jane, t0 * 1000);
    ingest.seed(m0.id._serialized);
    session.start();
    await vi.waitFor(() => expect(client().initializeCalls).toBe(1));

    client().becomeReady(firm);
    // m2 also arrives live right after ready, and m3 is new: both wait for the chat's catch-up.
    client().emit('message_create', m2);
    client().emit('message_create', m3);

    await vi.waitFor(() => expect(ingest.stored).toHaveLength(3));
    expect(ingest.stored.map((e) => e.waMessageId)).toEqual([m1.id._serialized, m2.id._serialized, m3.id._serialized]);
    expect(ingest.stored.every((e) => e.client.waId === '447700900123' && e.client.name === 'Jane Smith')).toBe(true);
    await vi.waitFor(async () => expect(await marks.get(firm, jane)).toBe((t0 + 400) * 1000));
  });

  it('moves the mark only after ingest resolved, and hands a refused batch over again next time', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const { session, client, ingest, marks } = setup({
      configure: (c) => (c.chats = [FakeChat.of(jane, 'Jane Smith', [m0, m1])]),
      wrapIngest: (onBatch) => async (batch) => {
        calls += 1;
        if (calls === 1) throw new Error('SQLITE_BUSY: database is locked');
        await held;
        await onBatch(batch);
      },
    });
    running = session;
    await marks.advance(firm, jane, t0 * 1000);
    session.start();
    await vi.waitFor(() => expect(client().initializeCalls).toBe(1));
    client().becomeReady(firm);

    await vi.waitFor(() => expect(calls).toBe(1));
    expect(await marks.get(firm, jane)).toBe(t0 * 1000);

    // The next catch-up (the scheduled retry, or the one after a reconnect) hands it over again.
    const second = session.catchUp();
    await vi.waitFor(() => expect(calls).toBe(2));
    expect(await marks.get(firm, jane)).toBe(t0 * 1000);
    release();
    await second;
    expect(await marks.get(firm, jane)).toBe((t0 + 60) * 1000);
    expect(ingest.stored.map((e) => e.waMessageId)).toEqual([m0.id._serialized, m1.id._serialized]);
  });

  it('retries a refused catch-up by itself with backoff', async () => {
    vi.useFakeTimers();
    const { session, client, ingest, marks } = setup({ configure: (c) => (c.chats = [FakeChat.of(jane, 'Jane Smith', [m0, m1])]) });
    running = session;
    await marks.advance(firm, jane, t0 * 1000);
    ingest.failures = 1;
    session.start();
    await vi.advanceTimersByTimeAsync(0);
    client().becomeReady(firm);
    await vi.advanceTimersByTimeAsync(0);
    expect(ingest.batches).toHaveLength(1);
    expect(ingest.stored).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(1000);
    expect(ingest.stored.map((e) => e.waMessageId)).toEqual([m0.id._serialized, m1.id._serialized]);
    expect(await marks.get(firm, jane)).toBe((t0 + 60) * 1000);
  });

  it('does not import the history of a newly linked phone', async () => {
    const { session, client, ingest } = setup({ configure: (c) => (c.chats = [FakeChat.of(jane, 'Jane Smith', [m0, m1])]), now: () => (t0 + 3600) * 1000 });
    running = session;
    session.start();
    await vi.waitFor(() => expect(client().initializeCalls).toBe(1));
    client().becomeReady(firm);
    await session.catchUp();
    expect(ingest.stored).toEqual([]);
    expect(client().chats[0]?.fetchCalls).toEqual([]);
  });

  it('fetches further back until the window before the mark is covered', async () => {
    const many = Array.from({ length: 130 }, (_, i) => textAt(`3EB00000000000001${String(i).padStart(3, '0')}`, t0 + 10 * i, `message ${i}`));
    const { session, client, ingest, marks } = setup({
      configure: (c) => (c.chats = [FakeChat.of(jane, 'Jane Smith', many)]),
      catchUp: { pageSize: 20, overlapMs: 0 },
    });
    running = session;
    await marks.advance(firm, jane, (t0 + 10 * 30) * 1000);
    session.start();
    await vi.waitFor(() => expect(client().initializeCalls).toBe(1));
    client().becomeReady(firm);
    await vi.waitFor(() => expect(ingest.stored).toHaveLength(100));
    expect(client().chats[0]?.fetchCalls).toEqual([{ limit: 20 }, { limit: 40 }, { limit: 80 }, { limit: 160 }]);
    expect(ingest.stored[0]?.timestamp).toBe((t0 + 300) * 1000);
  });
});

describe('WhatsAppWebSession live events', () => {
  async function ready(configure?: (client: FakeWebClient) => void) {
    const context = setup({ configure });
    running = context.session;
    context.session.start();
    await vi.waitFor(() => expect(context.client().initializeCalls).toBe(1));
    context.client().becomeReady(firm);
    await context.session.catchUp();
    return context;
  }

  it('records two edits as two events, each with its own version', async () => {
    const { client, ingest } = await ready();
    const { original, edits } = loadFixture<{ original: MessageJson; edits: Array<{ message: MessageJson; newBody: string; prevBody: string }> }>('edits-of-one-message.json');
    client().emit('message_create', toMessage(original));
    for (const edit of edits) client().emit('message_edit', toMessage(edit.message), edit.newBody, edit.prevBody);
    // WhatsApp Web reports the same edit again when the model changes: still two edits.
    const last = edits[1];
    if (last) client().emit('message_edit', toMessage(last.message), last.newBody, last.prevBody);
    await vi.waitFor(() => expect(ingest.stored).toHaveLength(3));
    expect(ingest.stored.map((e) => [e.kind, e.versionKey])).toEqual([
      ['message', ''],
      ['edit', '1763902361234'],
      ['edit', '1763902425678'],
    ]);
  });

  it('records a deletion for everyone that references the original', async () => {
    const { client, ingest } = await ready();
    const { after, before } = loadFixture<{ after: MessageJson; before: MessageJson }>('revoke-for-everyone.json');
    client().emit('message_create', toMessage(before));
    client().emit('message_revoke_everyone', toMessage(after), toMessage(before));
    await vi.waitFor(() => expect(ingest.stored).toHaveLength(2));
    expect(ingest.stored[1]).toMatchObject({ kind: 'deletion', targetWaMessageId: before.id._serialized });
  });

  it('records reactions and their removal', async () => {
    const { client, ingest } = await ready();
    for (const reaction of loadFixture<WebReaction[]>('reactions-added-and-removed.json')) client().emit('message_reaction', reaction);
    await vi.waitFor(() => expect(ingest.stored).toHaveLength(2));
    expect(ingest.stored.map((e) => (e.kind === 'reaction' ? e.emoji : e.kind))).toEqual(['👍', null]);
  });

  it('keys a group on the group, names each writer, and maps @lid writers to phone numbers', async () => {
    const { client, ingest } = await ready((c) => {
      c.chats = [FakeChat.of('120363041234567890@g.us', 'Smith v Jones – family')];
      c.lidPhones.set('212345678901234@lid', '447700900789@c.us');
    });
    client().emit('message_create', toMessage(fixture('group-text-with-lid-author.json')));
    await vi.waitFor(() => expect(ingest.stored).toHaveLength(1));
    expect(ingest.stored[0]).toMatchObject({
      client: { userId: '120363041234567890@g.us', name: 'Smith v Jones – family' },
      author: { id: '447700900789', name: 'Priya Patel' },
    });
  });

  it('maps a @lid chat to its phone number, and keeps the lid as user id while none is known', async () => {
    const { client, ingest } = await ready((c) => c.lidPhones.set('86432162136098@lid', '447700900456@c.us'));
    client().emit('message_create', toMessage(fixture('text-from-lid-sender.json')));
    await vi.waitFor(() => expect(ingest.stored).toHaveLength(1));
    expect(ingest.stored[0]?.client).toEqual({ waId: '447700900456', name: 'Tom Baker' });

    const other = setup();
    running = other.session;
    other.session.start();
    await vi.waitFor(() => expect(other.client().initializeCalls).toBe(1));
    other.client().becomeReady(firm);
    other.client().emit('message_create', toMessage(fixture('text-from-lid-sender.json')));
    await vi.waitFor(() => expect(other.ingest.stored).toHaveLength(1));
    expect(other.ingest.stored[0]?.client).toEqual({ userId: '86432162136098@lid', name: 'Tom Baker' });
    await other.session.stop();
  });

  it('records what the firm sent from the phone as outbound, with quotes resolved', async () => {
    const { client, ingest } = await ready();
    const { message, quoted } = loadFixture<{ message: MessageJson; quoted: MessageJson }>('reply-quoting-firm-document.json');
    client().emit('message_create', toMessage(fixture('document-sent-from-firm-phone.json')));
    client().emit('message_create', toMessage(message, { quoted: toMessage(quoted) }));
    await vi.waitFor(() => expect(ingest.stored).toHaveLength(2));
    expect(ingest.stored[0]).toMatchObject({ direction: 'outbound', kind: 'message' });
    expect(ingest.stored[1]).toMatchObject({ direction: 'inbound', quoted: { waMessageId: quoted.id._serialized } });
  });

  it('leaves the echo of a reply the bridge sent to the send flow, but ingests what the firm typed on the phone', async () => {
    const { session, client, ingest } = await ready();
    const receipt = await new WhatsAppWebChannel({ session }).send({ to: jane, businessId: firm, files: [], text: 'We have received the deposit.' });
    expect(client().sent).toHaveLength(1);
    // The page echoes the sent message; the send flow records it (with the solicitor's name), so the session drops it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await session.catchUp();
    expect(ingest.stored.filter((e) => e.waMessageId === receipt.waMessageId && e.kind === 'message')).toHaveLength(0);
    // A message typed on the phone itself is still the firm's outbound message.
    client().emit('message_create', toMessage(fixture('document-sent-from-firm-phone.json')));
    await vi.waitFor(() => expect(ingest.stored.some((e) => e.direction === 'outbound')).toBe(true));
  });

  it('turns acks of the firm messages into statuses', async () => {
    const { client, ingest } = await ready();
    const sent = toMessage(fixture('document-sent-from-firm-phone.json'));
    for (const ack of [0, 1, 2, 3]) client().emit('message_ack', sent, ack);
    await vi.waitFor(() => expect(ingest.statuses).toHaveLength(3));
    expect(ingest.statuses.map((s) => s.status)).toEqual(['sent', 'delivered', 'read']);
    expect(ingest.stored).toEqual([]);
  });

  it('logs ids and states, never what people wrote', async () => {
    const { client, ingest, logger } = await ready();
    ingest.failures = 1;
    client().emit('message_create', toMessage(text));
    await vi.waitFor(() => expect(logger.lines.some((line) => line.includes('ingest refused'))).toBe(true));
    const log = logger.lines.join('\n');
    expect(log).toContain('447700900123@c.us');
    expect(log).not.toContain('Mill Lane');
    expect(log).not.toContain('Jane Smith');
  });
});

describe('WhatsAppWebSession reconnect', () => {
  it('replaces the client after a disconnect, backing off 1 s, 2 s, ... and starting over once ready', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T09:00:00Z') });
    const { session, clients, client } = setup({
      configure: (c, index) => {
        if (index === 1) c.onInitialize = async () => Promise.reject(new Error('net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/'));
      },
    });
    running = session;
    session.start();
    await vi.advanceTimersByTimeAsync(0);
    client(0).becomeReady(firm);
    await vi.advanceTimersByTimeAsync(0);

    client(0).emit('disconnected', 'CONFLICT');
    expect(session.status()).toMatchObject({ state: 'disconnected', reconnectAttempt: 1, nextAttemptAt: Date.now() + 1000, lastError: expect.stringContaining('CONFLICT') });
    expect(session.readyClient()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(0);
    expect(client(0).destroyCalls).toBe(1);

    await vi.advanceTimersByTimeAsync(999);
    expect(clients).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(clients).toHaveLength(2);
    expect(client(1).initializeCalls).toBe(1);

    // The new browser could not reach WhatsApp Web: wait twice as long.
    expect(session.status()).toMatchObject({ state: 'disconnected', reconnectAttempt: 2, lastError: expect.stringContaining('ERR_NAME_NOT_RESOLVED') });
    await vi.advanceTimersByTimeAsync(1999);
    expect(clients).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(clients).toHaveLength(3);

    client(2).becomeReady(firm);
    expect(session.status()).toMatchObject({ state: 'ready', reconnectAttempt: 0 });
    // Events of the replaced clients no longer count.
    client(0).emit('qr', 'stale');
    expect(session.status().state).toBe('ready');

    client(2).emit('disconnected', 'LOGOUT');
    expect(session.status().nextAttemptAt).toBe(Date.now() + 1000);
  });

  it('stops for good: no reconnect, and the browser is closed', async () => {
    vi.useFakeTimers();
    const { session, clients, client } = setup();
    session.start();
    await vi.advanceTimersByTimeAsync(0);
    client(0).becomeReady(firm);
    await session.stop();
    expect(client(0).destroyCalls).toBe(1);
    expect(session.status().state).toBe('stopped');
    client(0).emit('disconnected', 'UNPAIRED');
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(clients).toHaveLength(1);
  });

  it('restarts a client that neither shows a QR code nor becomes ready', async () => {
    vi.useFakeTimers();
    const { session, clients } = setup({ startTimeoutMs: 60_000 });
    running = session;
    session.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(session.status()).toMatchObject({ state: 'disconnected', lastError: expect.stringContaining('did not start') });
    await vi.advanceTimersByTimeAsync(1000);
    expect(clients).toHaveLength(2);
  });

  it('doubles the delay from 1 s up to 5 minutes, jittered within its upper half', () => {
    const delays = Array.from({ length: 12 }, (_, attempt) => reconnectDelay(attempt, {}, () => 1));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000]);
    expect(reconnectDelay(3, {}, () => 0)).toBe(4000);
  });
});
