import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { placeHold } from '../../bridge-server/src/store/retention.js';
import { waitFor } from '../support/bridge.js';
import { useApiWorld, users } from '../support/api-world.js';

const api = useApiWorld();

interface SseEvent {
  event: string;
  data: { type: string; [key: string]: unknown };
}

/** Reads a text/event-stream response into events as they arrive (the wire format of the HTML SSE spec). */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  if (response.ok && response.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
          }
        }
      } catch {
        // aborted at the end of the test
      }
    })();
  }
  return { response, events, close: () => controller.abort() };
}

const open: Array<() => void> = [];
afterEach(() => {
  for (const close of open.splice(0)) close();
});

const ids = { alice: 0, bob: 0 };

beforeAll(async () => {
  ids.alice = (await api.clientWrites('447700900901', 'First message', { name: 'Ann Client' })).conversationId;
  ids.bob = (await api.clientWrites('447700900902', 'Bob client first', { name: 'Ben Client' })).conversationId;
  const admin = api.as(users.admin);
  const aliceMatter = (await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'ANN-1', title: 'Ann' })).body.id;
  const bobMatter = (await api.as(users.solicitorB)('POST', '/api/matters', { reference: 'BEN-1', title: 'Ben' })).body.id;
  await admin('POST', `/api/conversations/${ids.alice}/links`, { matterId: aliceMatter });
  await admin('POST', `/api/conversations/${ids.bob}/links`, { matterId: bobMatter });
});

describe('live stream of conversation changes', () => {
  it("delivers a client's new message to those who may see it, and not to others", async () => {
    const alice = await openStream(`${api.world.bridge.url}/api/stream`, { authorization: `Bearer ${await api.token(users.solicitorA)}` });
    const bob = await openStream(`${api.world.bridge.url}/api/stream?access_token=${await api.token(users.solicitorB)}`);
    open.push(alice.close, bob.close);
    expect(alice.response.headers.get('content-type')).toContain('text/event-stream');
    await waitFor(() => alice.events.length > 0 && bob.events.length > 0, 5000, () => 'no ready event');
    expect(alice.events[0]?.event).toBe('ready');

    await api.clientWrites('447700900901', 'Is the completion date fixed?', { name: 'Ann Client' });
    await waitFor(() => alice.events.some((e) => e.event === 'message'), 5000, () => JSON.stringify(alice.events));
    const message = alice.events.find((e) => e.event === 'message')!.data;
    expect(message).toMatchObject({ type: 'message', conversationId: ids.alice, message: { direction: 'inbound', text: 'Is the completion date fixed?', sender: { name: 'Ann Client' } } });

    // Bob's own client writes after Ann did; the feed is ordered, so once Bob has his event he
    // would already have had Ann's had it been sent to him.
    await api.clientWrites('447700900902', 'Ben again', { name: 'Ben Client' });
    await waitFor(() => bob.events.some((e) => e.event === 'message'), 5000, () => JSON.stringify(bob.events));
    expect(bob.events.filter((e) => e.event === 'message').map((e) => e.data.conversationId)).toEqual([ids.bob]);
  });

  it('reports a reply as queued, its WhatsApp message, and its delivery ticks', async () => {
    const stream = await openStream(`${api.world.bridge.url}/api/stream?conversation=${ids.alice}`, { authorization: `Bearer ${await api.token(users.solicitorA)}` });
    open.push(stream.close);
    await waitFor(() => stream.events.length > 0, 5000, () => 'no ready event');
    const reply = await api.as(users.solicitorA)('POST', `/api/conversations/${ids.alice}/replies`, { text: 'Yes, the 14th.' });
    expect(reply.status).toBe(202);
    await waitFor(() => stream.events.some((e) => e.event === 'message' && (e.data.message as { direction: string }).direction === 'outbound'), 10_000, () => JSON.stringify(stream.events));
    expect(stream.events.find((e) => e.event === 'reply')?.data).toMatchObject({ conversationId: ids.alice, reply: { commandId: reply.body.commandId, state: 'queued', text: 'Yes, the 14th.' } });
    const sent = stream.events.find((e) => e.event === 'message' && (e.data.message as { direction: string }).direction === 'outbound')!.data.message as { waMessageId: string; commandId: number };
    expect(sent.commandId).toBe(reply.body.commandId);
    await api.world.simulator.postWebhook(api.world.simulator.statusUpdate({ id: sent.waMessageId, status: 'delivered', recipientId: '447700900901' }));
    await waitFor(() => stream.events.some((e) => e.event === 'delivery'), 5000, () => JSON.stringify(stream.events));
    expect(stream.events.find((e) => e.event === 'delivery')?.data).toMatchObject({ conversationId: ids.alice, waMessageId: sent.waMessageId, status: 'delivered' });
  });

  it('reports a reply WhatsApp refuses as failed, with the reason', async () => {
    const stream = await openStream(`${api.world.bridge.url}/api/stream?conversation=${ids.alice}`, { authorization: `Bearer ${await api.token(users.solicitorA)}` });
    open.push(stream.close);
    await waitFor(() => stream.events.length > 0, 5000, () => 'no ready event');
    api.world.simulator.failNextSends(1, 400, 131047);
    const reply = await api.as(users.solicitorA)('POST', `/api/conversations/${ids.alice}/replies`, { text: 'This one is refused' });
    const failed = () => stream.events.find((e) => e.event === 'reply' && (e.data.reply as { state: string }).state === 'failed');
    await waitFor(() => failed() !== undefined, 10_000, () => JSON.stringify(stream.events));
    expect(failed()!.data).toMatchObject({ conversationId: ids.alice, reply: { commandId: reply.body.commandId, error: { code: 'window_closed' } } });
    const page = await api.as(users.solicitorA)('GET', `/api/conversations/${ids.alice}/messages`);
    expect(page.body.pending).toEqual([expect.objectContaining({ commandId: reply.body.commandId, state: 'failed' })]);
  });

  it("tells the views of a conversation and of its matter when a hold comes to cover them, and compliance officers once of every hold placed or released, over the API or by another process", async () => {
    const stream = async (user: (typeof users)[keyof typeof users], query = '') => {
      const opened = await openStream(`${api.world.bridge.url}/api/stream${query}`, { authorization: `Bearer ${await api.token(user)}` });
      open.push(opened.close);
      return opened;
    };
    const officer = await stream(users.compliance);
    const alice = await stream(users.solicitorA);
    const aliceOnOne = await stream(users.solicitorA, `?conversation=${ids.alice}`);
    const bob = await stream(users.solicitorB);
    const bobOnOne = await stream(users.solicitorB, `?conversation=${ids.bob}`);
    const streams = [officer, alice, aliceOnOne, bob, bobOnOne];
    await waitFor(() => streams.every((s) => s.events.length > 0), 5000, () => 'no ready event');
    const holdEvents = () => officer.events.filter((e) => e.event === 'holds').length;
    const retentionEvents = (of: typeof alice) => of.events.filter((e) => e.event === 'retention').map((e) => e.data.conversationId);
    const matterEvents = (of: typeof alice) => of.events.filter((e) => e.event === 'matter').map((e) => e.data.matterId);
    const everything = () => JSON.stringify(streams.map((s) => s.events));
    // The feed polls every 200 ms here: a change reported twice would be in by then.
    const settle = () => new Promise((resolve) => setTimeout(resolve, 700));

    const matter = (await api.as(users.solicitorA)('GET', '/api/matters?q=ANN-1')).body.items[0].id;
    const placed = await api.as(users.compliance)('POST', '/api/holds', { matterId: matter, reason: 'Dispute with the lender' });
    expect(placed.status).toBe(201);
    await waitFor(() => holdEvents() >= 1 && retentionEvents(aliceOnOne).length >= 1 && matterEvents(alice).length >= 1, 5000, everything);
    await settle();
    // Pushed once, though the poll looks at the holds too. The view of the matter's conversation
    // reads its detail again and finds the hold there; the view of the matter, its retention.
    expect(holdEvents()).toBe(1);
    expect(retentionEvents(aliceOnOne)).toEqual([ids.alice]);
    expect(matterEvents(alice)).toEqual([matter]);
    expect(matterEvents(officer)).toEqual([matter]);
    expect((await api.as(users.solicitorA)('GET', `/api/conversations/${ids.alice}`)).body.retention).toMatchObject({ basis: 'hold', holds: [expect.objectContaining({ id: placed.body.id })] });
    expect((await api.as(users.solicitorA)('GET', `/api/matters/${matter}/retention`)).body.holds).toEqual([expect.objectContaining({ id: placed.body.id })]);

    // A hold placed by another process (the CLI writes to the store): found by the feed's next
    // poll, which tells the view of the conversation it covers as the API's push would.
    await placeHold(api.world.bridge.store.db, { conversationId: ids.bob, reason: 'Regulator request', placedBy: 'cli:ops', at: Date.now() });
    await waitFor(() => holdEvents() >= 2 && retentionEvents(bobOnOne).length >= 1, 5000, everything);
    const released = await api.as(users.compliance)('POST', `/api/holds/${placed.body.id}/release`, { reason: 'Settled' });
    expect(released.status).toBe(200);
    await waitFor(() => holdEvents() >= 3 && retentionEvents(aliceOnOne).length >= 2 && matterEvents(alice).length >= 2, 5000, everything);
    await settle();
    expect(holdEvents()).toBe(3);
    expect(retentionEvents(bobOnOne)).toEqual([ids.bob]);
    expect(retentionEvents(aliceOnOne)).toEqual([ids.alice, ids.alice]);
    expect(matterEvents(alice)).toEqual([matter, matter]);

    // Holds are the compliance officers' business: nobody else's stream names them, nor does a
    // stream of one conversation; the lists of all conversations are not made to rebuild every
    // conversation a hold covers, since nothing in a list changed; and a matter is news only to
    // those who see it (Bob is not on Ann's matter, and the hold on his own chat is on no matter).
    for (const other of [alice, aliceOnOne, bob, bobOnOne]) expect(other.events.filter((e) => e.event === 'holds')).toEqual([]);
    for (const other of [officer, alice, bob]) expect(other.events.filter((e) => e.event === 'retention' || e.event === 'conversation')).toEqual([]);
    for (const other of [bob, aliceOnOne, bobOnOne]) expect(matterEvents(other)).toEqual([]);

    // Closing the matter starts its conversations' retention period: both views are told that too.
    expect((await api.as(users.solicitorA)('POST', `/api/matters/${matter}/close`)).status).toBe(200);
    await waitFor(() => retentionEvents(aliceOnOne).length >= 3 && matterEvents(alice).length >= 3, 5000, everything);
    expect((await api.as(users.solicitorA)('GET', `/api/conversations/${ids.alice}`)).body.retention).toMatchObject({ basis: 'matter_closed', matter: 'ANN-1' });
    expect(matterEvents(bob)).toEqual([]);
    expect(holdEvents()).toBe(3);
  });

  it('refuses a stream of a conversation the user may not see, and a bad query token', async () => {
    const forbidden = await openStream(`${api.world.bridge.url}/api/stream?conversation=${ids.bob}`, { authorization: `Bearer ${await api.token(users.solicitorA)}` });
    expect(forbidden.response.status).toBe(403);
    const expired = await openStream(`${api.world.bridge.url}/api/stream?access_token=${await api.issuer.sign(users.solicitorA, { expiresIn: -3600 })}`);
    expect(expired.response.status).toBe(401);
    expect((await expired.response.json()).code).toBe('token_expired');
  });
});

describe('stream lifetime', () => {
  it('ends the stream when the token that opened it expires', async () => {
    // The validator allows 60 s of clock skew, so a token 30 s past its expiry still opens the
    // stream; the stream then ends at once instead of running on an expired token.
    const token = await api.issuer.sign(users.solicitorA, { expiresIn: -30 });
    const response = await fetch(`${api.world.bridge.url}/api/stream`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^event: ready\n/);
  });
});
