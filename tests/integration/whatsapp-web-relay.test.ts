import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatsAppWebSession } from '../../bridge-server/src/channels/whatsapp-web/session.js';
import { FakeChat, FakeWebClient, loadFixture, toMessage, variant, type MessageJson } from '../../bridge-server/src/channels/whatsapp-web/test-client.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { countEvents } from '../../bridge-server/src/store/events.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';

/**
 * whatsapp-web.js into the mailbox: the session (driven by a test double of the library's client)
 * feeds the real ingest flow, and the relay mails every event to a real SMTP server.
 */
describe('whatsapp-web.js events become mails', () => {
  let catcher: MailCatcher;
  let world: BridgeWorld;
  let session: WhatsAppWebSession;
  let client: FakeWebClient;
  // The phone's chats outlive any one browser session: each new client sees the same chats.
  const chats = [FakeChat.of('447700900123@c.us', 'Jane Smith')];
  const offline = loadFixture<MessageJson>('text-from-client.json');

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    world = await startBridgeWorld({
      smtpUrl: catcher.url,
      mailbox: 'solicitor@firm.test',
      env: { WA_BRIDGE_WHATSAPP_WEB: 'on' },
      createWebClient: () => {
        client = new FakeWebClient();
        client.chats = chats;
        return client;
      },
    });
    session = world.bridge.whatsappWeb!;
    await waitFor(() => client !== undefined && client.initializeCalls === 1, 5000, () => 'client never initialized');
    client.becomeReady('442071234567');
    await waitFor(() => session.status().state === 'ready', 5000, () => JSON.stringify(session.status()));
  });
  afterAll(async () => {
    await world?.stop();
    await catcher?.stop();
  });

  const mails = (): Promise<ParsedMail[]> => Promise.all(catcher.mails().map((m) => simpleParser(m.raw)));

  it('reports the session on /metrics and /readyz', async () => {
    const metrics = await (await fetch(`${world.bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/^wa_bridge_whatsapp_web_session\{state="ready"\} 1$/m);
    expect(metrics).toMatch(/^wa_bridge_whatsapp_web_session\{state="standby"\} 0$/m);
    expect(metrics).toMatch(/^wa_bridge_whatsapp_web_session\{state="disconnected"\} 0$/m);
    expect(await (await fetch(`${world.bridge.url}/readyz`)).json()).toMatchObject({ status: 'ready', whatsappWeb: { state: 'ready' } });
  });

  it('catches up on what arrived while offline, once however often it reconnects', async () => {
    // The phone drops off; a message arrives meanwhile; the next session's catch-up finds it.
    const first = client;
    first.emit('disconnected', 'NAVIGATION');
    await waitFor(() => client !== first && client.initializeCalls === 1, 10_000, () => JSON.stringify(session.status()));
    // Whole seconds, as WhatsApp stamps them, and after the moment the number was linked.
    chats[0]!.messages.push(toMessage(variant(offline, { timestamp: Math.ceil(Date.now() / 1000) + 1 })));
    client.becomeReady('442071234567');
    await waitFor(async () => (await mails()).some((m) => m.headers.get('x-whatsapp-message-id') === offline.id._serialized), 10_000, () => 'offline message not mirrored');
    const before = await countEvents(world.bridge.store.db);
    await session.catchUp();
    await session.catchUp();
    expect(await countEvents(world.bridge.store.db)).toBe(before);
    expect((await mails()).filter((m) => m.headers.get('x-whatsapp-message-id') === offline.id._serialized)).toHaveLength(1);
  });

  it('mirrors each edit and a deletion for everyone as new mails in the thread, never changing the first', async () => {
    const { original, edits } = loadFixture<{ original: MessageJson; edits: Array<{ message: MessageJson; newBody: string; prevBody: string }> }>('edits-of-one-message.json');
    const { after, before } = loadFixture<{ after: MessageJson; before: MessageJson }>('revoke-for-everyone.json');
    client.emit('message_create', toMessage(original));
    for (const edit of edits) client.emit('message_edit', toMessage(edit.message), edit.newBody, edit.prevBody);
    client.emit('message_create', toMessage(before));
    client.emit('message_revoke_everyone', toMessage(after), toMessage(before));

    const kinds = (all: ParsedMail[]) => all.map((m) => m.headers.get('x-whatsapp-event'));
    await waitFor(async () => kinds(await mails()).filter((k) => k === 'edit').length === 2 && kinds(await mails()).includes('deletion'), 15_000, async () => JSON.stringify(kinds(await mails())));
    const all = await mails();
    const originalMail = all.find((m) => m.headers.get('x-whatsapp-message-id') === original.id._serialized)!;
    const editMails = all.filter((m) => m.headers.get('x-whatsapp-event') === 'edit');
    const deletion = all.find((m) => m.headers.get('x-whatsapp-event') === 'deletion')!;
    expect(new Set([originalMail, ...editMails, deletion].map((m) => m.messageId)).size).toBe(4);
    expect(originalMail.text).toContain('I can come on Tuesday.');
    for (const edit of editMails) expect(edit.headers.get('x-whatsapp-target-message-id')).toBe(original.id._serialized);
    expect(editMails.map((m) => m.text ?? '').some((t) => t.includes(edits[1]!.newBody))).toBe(true);
    expect(deletion.headers.get('x-whatsapp-target-message-id')).toBe(before.id._serialized);
    expect(deletion.text).toContain(before.body);
    const chatIds = new Set(all.map((m) => m.headers.get('x-whatsapp-chat-id')));
    expect(chatIds.size).toBe(1);
  });

  it('sends a reply through the linked phone and mirrors it once, even though the phone echoes it', async () => {
    const conversation = await world.bridge.store.db.selectFrom('conversations').select('id').where('channel', '=', 'whatsapp-web').executeTakeFirstOrThrow();
    const sentBefore = client.sent.length;
    // As the real page may: the echo (message_create of our own message) comes before sendMessage resolves.
    client.onSend = async (chatId, content) => {
      const id = '3EB0EC40EC40EC40EC40';
      const message = toMessage({
        id: { fromMe: true, remote: chatId, id, _serialized: `true_${chatId}_${id}` },
        from: '442071234567@c.us',
        to: chatId,
        fromMe: true,
        type: 'chat',
        body: String(content),
        timestamp: Math.ceil(Date.now() / 1000),
        ack: 0,
        hasMedia: false,
        hasQuotedMsg: false,
      });
      client.emit('message_create', message);
      // Worst case: the page takes long enough that an echo handled at once would be stored first.
      const stored = () => world.bridge.store.db.selectFrom('events').select('id').where('wa_message_id', '=', message.id._serialized).executeTakeFirst();
      for (let waited = 0; waited < 1000 && !(await stored()); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      return message;
    };
    await world.bridge.reply({ conversationId: conversation.id, text: 'Tuesday is fine, see you at 10.', files: [], author: { name: 'Tom Baker', address: 'tom@firm.test' }, source: { kind: 'api', ref: 'wweb-reply-1' } });
    await waitFor(() => client.sent.length > sentBefore, 10_000, () => 'nothing sent through the phone');
    expect(client.sent.at(-1)).toMatchObject({ chatId: '447700900123@c.us', content: 'Tuesday is fine, see you at 10.', options: { sendSeen: false } });
    await waitFor(async () => (await mails()).some((m) => m.headers.get('x-whatsapp-direction') === 'outbound'), 10_000, () => 'reply not mirrored');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const outbound = (await mails()).filter((m) => m.headers.get('x-whatsapp-direction') === 'outbound');
    expect(outbound).toHaveLength(1);
    expect(outbound[0]!.from?.value[0]?.name).toBe('Tom Baker via WhatsApp');
  });
});
