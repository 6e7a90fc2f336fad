/**
 * A bridge process whose whatsapp-web.js client is the test double (the library's documented
 * contract; WhatsApp itself is out of reach), so a test can run several such processes on one
 * store and SIGKILL one. Driven over the IPC channel of child_process.fork:
 *   parent -> child: { type: 'phone', message } adds a message to the phone's chat (found by a catch-up);
 *                    { type: 'live', message } also delivers it live to a ready client;
 *                    { type: 'reply', id, conversationId, text } submits a solicitor's reply.
 *   child -> parent: { type: 'started', url }, { type: 'state', state }, { type: 'initialized' },
 *                    { type: 'sent', chatId, text, message }, { type: 'replied', id }.
 * The environment configures the bridge as for `wa-bridge serve`; WAB_CHILD_TAG makes sent ids unique,
 * WAB_CHILD_LEASE_MS sets the session lease. With WAB_CHILD_DIE_AFTER_SENDING set to a text, the
 * process kills itself with SIGKILL the moment WhatsApp has taken that text, before the bridge
 * hears back: the death between a send and its record. A sent message is stamped now, as WhatsApp
 * stamps it; `message` is its JSON, for the parent to put in the other processes' copies of the
 * chat (the phone's chat is one, whichever instance runs the session).
 */
import { startBridge } from '../../bridge-server/src/app.js';
import { FakeChat, FakeWebClient, toMessage, type MessageJson } from '../../bridge-server/src/channels/whatsapp-web/test-client.js';
import { loadConfig } from '../../bridge-server/src/config/load.js';
import { createLogger } from '../../bridge-server/src/ops/logger.js';

type FromParent = { type: 'phone' | 'live'; message: MessageJson } | { type: 'reply'; id: string; conversationId: number; text: string };

const send = (message: object): void => void process.send?.(message);
const businessId = process.env.WAB_CHILD_BUSINESS_ID ?? '442071234567';
const chat = FakeChat.of('447700900123@c.us', 'Jane Smith');
let client: FakeWebClient | undefined;

const bridge = await startBridge(loadConfig(process.env, undefined), {
  logger: createLogger(process.env.WA_BRIDGE_LOG_LEVEL ?? 'warn'),
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 1000,
  pollMs: 200,
  whatsappWebLeaseMs: Number(process.env.WAB_CHILD_LEASE_MS ?? 2000),
  createWebClient: () => {
    const fresh = new FakeWebClient();
    fresh.chats = [chat];
    fresh.sentIdPrefix = `3EB0${process.env.WAB_CHILD_TAG ?? 'X'}`;
    // The saved session is restored: ready without a QR code.
    fresh.onInitialize = async () => {
      send({ type: 'initialized' });
      setImmediate(() => fresh.becomeReady(businessId));
    };
    fresh.sentTimestamp = () => Math.floor(Date.now() / 1000);
    const accept = fresh.sendMessage.bind(fresh);
    fresh.sendMessage = async (chatId, content, options) => {
      const sent = await accept(chatId, content, options);
      const text = typeof content === 'string' ? content : '(media)';
      const message: MessageJson | undefined = sent && {
        id: sent.id,
        from: sent.from,
        to: sent.to,
        fromMe: sent.fromMe,
        type: sent.type,
        body: sent.body,
        timestamp: sent.timestamp,
        hasMedia: sent.hasMedia,
        hasQuotedMsg: sent.hasQuotedMsg,
      };
      const notice = { type: 'sent', chatId, text, message };
      if (text === process.env.WAB_CHILD_DIE_AFTER_SENDING) {
        process.send?.(notice, () => process.kill(process.pid, 'SIGKILL'));
        return new Promise<never>(() => undefined);
      }
      send(notice);
      return sent;
    };
    client = fresh;
    return fresh;
  },
});
bridge.whatsappWeb?.onStatus((status) => send({ type: 'state', state: status.state }));

process.on('message', (raw) => {
  const message = raw as FromParent;
  if (message.type !== 'reply') {
    chat.messages.push(toMessage(message.message));
    if (message.type === 'live' && client && bridge.whatsappWeb?.status().state === 'ready') client.emit('message_create', toMessage(message.message));
    return;
  }
  void bridge
    .reply({ conversationId: message.conversationId, text: message.text, files: [], author: { name: 'Tom Baker', address: 'tom@firm.test' }, source: { kind: 'api', ref: message.id } })
    .then(() => send({ type: 'replied', id: message.id }));
});
process.on('SIGTERM', () => void bridge.stop().then(() => process.exit(0)));
send({ type: 'started', url: bridge.url, state: bridge.whatsappWeb?.status().state });
