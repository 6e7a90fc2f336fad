import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRelayByMessageId } from '../../bridge-server/src/store/relays.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { startGraphMailDouble, type GraphMailDouble } from '../support/graph-mail-double.js';

/**
 * A bridge configured with the Graph mail route: signed webhooks from the Cloud API simulator in,
 * Microsoft Graph sendMail (a local double of Entra ID and Graph) out. Nothing listens on the
 * SMTP URL the world is given, so a mail can only arrive through Graph.
 */
const tenantId = '00000000-0000-4000-8000-00000000a11e';
const sendingMailbox = 'wa-bridge@firm.test';
const recipient = 'solicitor@firm.test';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const header = (mime: Buffer, name: string) =>
  new RegExp(`^${name}:[ \\t]*(.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(mime.subarray(0, mime.indexOf('\r\n\r\n')).toString('latin1'))?.[1]?.replace(/\r\n(?=[ \t])/g, '').trim();
const messageIdOf = (mime: Buffer) => /<([^>]+)>/.exec(header(mime, 'Message-ID') ?? '')?.[1];

/** The bytes the relay composed: what Graph received with the reply address back in From. */
function asComposed(mime: Buffer): Buffer {
  const replyTo = header(mime, 'Reply-To')!.trim();
  const end = mime.indexOf('\r\n\r\n');
  const head = mime.subarray(0, end).toString('latin1');
  const from = /^From:(?:.*)(?:\r\n[ \t].*)*/m.exec(head)!;
  const restored = from[0].replace(`<${sendingMailbox}>`, `<${replyTo}>`);
  return Buffer.concat([Buffer.from(head.slice(0, from.index) + restored + head.slice(from.index + from[0].length), 'latin1'), mime.subarray(end)]);
}

describe('relaying through the Graph mail route', () => {
  let graph: GraphMailDouble;
  let world: BridgeWorld;

  beforeAll(async () => {
    graph = await startGraphMailDouble({ tenantId, clientId: 'bridge-mail-app', clientSecret: 'bridge-mail-secret', mailboxes: [sendingMailbox] });
    world = await startBridgeWorld({
      smtpUrl: 'smtp://127.0.0.1:9',
      mailbox: recipient,
      env: {
        WA_BRIDGE_MAIL_TRANSPORT: 'graph',
        WA_BRIDGE_GRAPH_MAILBOX: sendingMailbox,
        WA_BRIDGE_GRAPH_TENANT_ID: tenantId,
        WA_BRIDGE_GRAPH_CLIENT_ID: 'bridge-mail-app',
        WA_BRIDGE_GRAPH_CLIENT_SECRET: 'bridge-mail-secret',
        WA_BRIDGE_GRAPH_BASE_URL: graph.url,
      },
      graphNetworkClient: graph.networkClient,
    });
  });
  afterAll(async () => {
    await world?.stop();
    await graph?.stop();
  });

  async function postMessages(clients: Array<{ from: string; name: string }>, perClient: number, label: string): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 0; n < perClient; n += 1) {
      for (const client of clients) {
        const envelope = world.simulator.inboundMessage({ ...client, type: 'text', body: `${label} ${n} from ${client.name}` });
        ids.push((envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id);
        const answer = await world.simulator.postWebhook(envelope);
        expect(answer.status, answer.body).toBe(200);
      }
    }
    return ids;
  }

  async function relayQueueEmpty(): Promise<boolean> {
    const counts = await world.bridge.outbox.counts();
    return counts['mail.relay'].pending + counts['mail.relay'].running + counts['mail.relay'].needs_attention === 0;
  }

  async function checkAcceptedMatchTheRelays(): Promise<void> {
    const ids = graph.accepted.map((a) => messageIdOf(a.mime));
    expect(new Set(ids).size, 'one sendMail accepted per mail').toBe(ids.length);
    for (const accepted of graph.accepted) {
      const id = messageIdOf(accepted.mime)!;
      const relay = await getRelayByMessageId(world.bridge.store.db, id);
      expect(relay?.state, id).toBe('sent');
      // Byte for byte the MIME the relay composed and stored, but for the address in From.
      expect(sha256(asComposed(accepted.mime)), id).toBe(relay!.rawSha256);
      const parsed = await simpleParser(accepted.mime);
      expect(parsed.from?.value[0]?.address).toBe(sendingMailbox);
      expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value.map((v) => v.address) : []).toEqual([recipient]);
    }
  }

  it('sends each webhook message as exactly one sendMail carrying the MIME the relay composed', async () => {
    const clients = Array.from({ length: 6 }, (_, i) => ({ from: `4477009001${String(i).padStart(2, '0')}`, name: `Client ${i}` }));
    const waIds = await postMessages(clients, 3, 'Hello');
    const expected = clients.length + waIds.length;

    await waitFor(async () => graph.accepted.length >= expected && (await relayQueueEmpty()), 60_000, () => `${graph.accepted.length} of ${expected} mails accepted`);
    expect(graph.accepted).toHaveLength(expected);
    expect(graph.requests.every((r) => r.status === 202)).toBe(true);
    expect(graph.maxInFlight).toBeLessThanOrEqual(4);
    await checkAcceptedMatchTheRelays();

    // Every WhatsApp message is there once, threaded under its chat's cover mail.
    for (const waId of waIds) {
      const mails = graph.accepted.filter((a) => header(a.mime, 'X-WhatsApp-Message-Id') === waId);
      expect(mails, waId).toHaveLength(1);
      const mime = mails[0]!.mime;
      const chatId = header(mime, 'X-WhatsApp-Chat-Id');
      expect(header(mime, 'In-Reply-To')).toMatch(/^<[^>]+@wa\.firm\.test>$/);
      expect(header(mime, 'References')).toContain(`<chat.${chatId}@wa.firm.test>`);
      // Thread-Index: the chat's 22-byte root block (the cover mail's) plus one 5-byte child block.
      const cover = graph.accepted.find((a) => messageIdOf(a.mime) === `chat.${chatId}@wa.firm.test`)!;
      const root = Buffer.from(header(cover.mime, 'Thread-Index')!, 'base64');
      const index = Buffer.from(header(mime, 'Thread-Index')!, 'base64');
      expect(root).toHaveLength(22);
      expect(index).toHaveLength(27);
      expect(index.subarray(0, 22).equals(root)).toBe(true);
      expect(header(mime, 'X-Archive-Hash')).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    expect(graph.tokenRequests.every((t) => t.grant_type === 'client_credentials')).toBe(true);
  });

  it('sends each message exactly once through a storm of 429s', async () => {
    const before = graph.accepted.length;
    const requestsBefore = graph.requests.length;
    const storm = Array.from({ length: 10 }, () => ({ status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.', retryAfter: 1 }));
    graph.failNext(...storm);
    const clients = [
      { from: '447700900100', name: 'Client 0' },
      { from: '447700900101', name: 'Client 1' },
      { from: '447700900102', name: 'Client 2' },
    ];
    const waIds = await postMessages(clients, 3, 'During the storm');

    await waitFor(async () => graph.accepted.length >= before + waIds.length && (await relayQueueEmpty()), 90_000, () => `${graph.accepted.length - before} of ${waIds.length} mails accepted`);
    const during = graph.requests.slice(requestsBefore);
    expect(during.filter((r) => r.status === 429)).toHaveLength(storm.length);
    expect(during.filter((r) => r.status === 202)).toHaveLength(waIds.length);
    expect(graph.accepted).toHaveLength(before + waIds.length);
    for (const waId of waIds) expect(graph.accepted.filter((a) => header(a.mime, 'X-WhatsApp-Message-Id') === waId), waId).toHaveLength(1);
    await checkAcceptedMatchTheRelays();
  });

  it('reports the Graph route as ready once Entra ID issues its token', async () => {
    const response = await fetch(`${world.bridge.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ready', mailRoute: 'graph' });
  });
});
