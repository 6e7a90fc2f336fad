import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { WebChat, WebClient, WebMedia, WebMessage, WebReaction, WebSendOptions } from './client-port.js';

/**
 * A test double of whatsapp-web.js's Client, for tests only: WhatsApp Web cannot be reached from
 * a test. It follows the library's documented contract (src/Client.js,
 * src/structures/Message.js): events with the library's argument lists, Message objects built
 * from JSON fixtures the way Message._patch shapes them (`rawData` is the `_data` model),
 * `fetchMessages({limit})` returning the newest `limit` messages oldest first, `sendMessage`
 * resolving the sent Message and then emitting message_create for it, as the real page does.
 */

const fixtures = new URL('../../../../tests/fixtures/whatsapp-web/', import.meta.url);

export function loadFixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, fixtures), 'utf8')) as T;
}

/** A Message's own JSON fields, as the fixtures hold them. */
export type MessageJson = Omit<WebMessage, 'rawData' | 'downloadMedia' | 'getQuotedMessage' | 'getReactions'> & { _data?: Record<string, unknown> };

export interface MessageBehaviour {
  /** What downloadMedia() resolves; undefined models expired media. */
  media?: WebMedia;
  quoted?: WebMessage;
  reactions?: WebReaction[];
}

/** A Message object from its JSON, with the library's methods. */
export function toMessage(json: MessageJson, behaviour: MessageBehaviour = {}): WebMessage {
  const copy = structuredClone(json);
  const message: WebMessage = {
    ...copy,
    deviceType: copy.deviceType ?? deviceTypeOf(copy.id.id),
    rawData: copy._data,
    downloadMedia: async () => (copy.hasMedia ? behaviour.media : undefined),
    getQuotedMessage: async () => (copy.hasQuotedMsg ? behaviour.quoted : undefined),
    getReactions: async () => (behaviour.reactions?.length ? [{ id: behaviour.reactions[0]?.reaction ?? '', senders: behaviour.reactions }] : undefined),
  };
  return message;
}

/** What the library's Message sets as deviceType, from the shape of the id (src/structures/Message.js). */
function deviceTypeOf(id: string): string {
  if (id.length > 25) return 'android';
  return id.startsWith('3A') ? 'ios' : 'web';
}

/** A fixture message with some fields changed (id, time, body), keeping `_data` in step. */
export function variant(json: MessageJson, change: { id?: string; timestamp?: number; body?: string }): MessageJson {
  const copy = structuredClone(json);
  const data = copy._data ?? {};
  if (change.id !== undefined) {
    copy.id = { ...copy.id, id: change.id, _serialized: `${copy.id.fromMe}_${copy.id.remote}_${change.id}` };
    data.id = copy.id;
  }
  if (change.timestamp !== undefined) {
    copy.timestamp = change.timestamp;
    data.t = change.timestamp;
  }
  if (change.body !== undefined) {
    copy.body = change.body;
    data.body = change.body;
  }
  copy._data = data;
  return copy;
}

export class FakeChat implements WebChat {
  readonly fetchCalls: Array<{ limit?: number; fromMe?: boolean }> = [];

  constructor(
    readonly id: { _serialized: string; server: string; user: string },
    readonly name: string,
    readonly isGroup: boolean,
    public messages: WebMessage[] = [],
    public timestamp?: number,
  ) {}

  static of(jid: string, name: string, messages: WebMessage[] = []): FakeChat {
    const [user = '', server = ''] = jid.split('@');
    const last = messages.reduce((max, m) => Math.max(max, m.timestamp), 0);
    return new FakeChat({ _serialized: jid, server, user }, name, server === 'g.us', messages, last || undefined);
  }

  async fetchMessages(options: { limit?: number; fromMe?: boolean }): Promise<WebMessage[]> {
    this.fetchCalls.push({ ...options });
    const chosen = options.fromMe === undefined ? this.messages : this.messages.filter((m) => m.fromMe === options.fromMe);
    const sorted = [...chosen].sort((a, b) => a.timestamp - b.timestamp);
    return options.limit && options.limit > 0 ? sorted.slice(-options.limit) : sorted;
  }
}

export class FakeWebClient extends EventEmitter implements WebClient {
  info: { wid: { user: string; _serialized: string }; pushname?: string } | null = null;
  chats: FakeChat[] = [];
  /** lid JID -> phone JID, as WhatsApp Web would resolve it. */
  readonly lidPhones = new Map<string, string>();
  readonly stored = new Map<string, WebMessage>();
  readonly sent: Array<{ chatId: string; content: string | WebMedia; options: WebSendOptions | undefined }> = [];
  /** The start of the ids of sent messages; two clients in one test need different ones. */
  sentIdPrefix = '3EB0F1E2D3C4B5A6';
  initializeCalls = 0;
  destroyCalls = 0;
  /** What initialize() does; default resolves, like a browser that opened WhatsApp Web. */
  onInitialize: () => Promise<void> = async () => undefined;
  /** What sendMessage() does; default accepts and builds the sent message. */
  onSend: ((chatId: string, content: string | WebMedia, options?: WebSendOptions) => Promise<WebMessage | undefined>) | undefined;
  private sentCount = 0;
  /** Unix seconds stamped on a sent message; default a fixed second per send, so tests can name it. */
  sentTimestamp: (count: number) => number = (count) => 1763903000 + count;

  async initialize(): Promise<void> {
    this.initializeCalls += 1;
    await this.onInitialize();
  }

  async destroy(): Promise<void> {
    this.destroyCalls += 1;
  }

  /** The phone scanned the QR code: the library sets `info` and emits `ready`. */
  becomeReady(number: string): void {
    this.info = { wid: { user: number, _serialized: `${number}@c.us` }, pushname: 'Firm' };
    this.emit('ready');
  }

  async sendMessage(chatId: string, content: string | WebMedia, options?: WebSendOptions): Promise<WebMessage | undefined> {
    this.sent.push({ chatId, content, options });
    if (this.onSend) return this.onSend(chatId, content, options);
    this.sentCount += 1;
    const id = `${this.sentIdPrefix}${String(this.sentCount).padStart(4, '0')}`;
    const message = toMessage({
      id: { fromMe: true, remote: chatId, id, _serialized: `true_${chatId}_${id}` },
      from: this.info?.wid._serialized ?? '',
      to: chatId,
      fromMe: true,
      type: typeof content === 'string' ? 'chat' : options?.sendMediaAsDocument ? 'document' : 'image',
      body: typeof content === 'string' ? content : (options?.caption ?? ''),
      timestamp: this.sentTimestamp(this.sentCount),
      ack: 0,
      hasMedia: typeof content !== 'string',
      hasQuotedMsg: options?.quotedMessageId !== undefined,
    });
    // The page adds the sent message to its store, which emits message_create (whatsapp-web.js docs);
    // from then on the chat's fetchMessages returns it too.
    this.chats.find((chat) => chat.id._serialized === chatId)?.messages.push(message);
    setImmediate(() => this.emit('message_create', message));
    return message;
  }

  async getChats(): Promise<WebChat[]> {
    return this.chats;
  }

  async getChatById(chatId: string): Promise<WebChat> {
    const chat = this.chats.find((c) => c.id._serialized === chatId);
    if (!chat) throw new Error(`Evaluation failed: chat ${chatId} not found`);
    return chat;
  }

  async getMessageById(messageId: string): Promise<WebMessage | null> {
    return this.stored.get(messageId) ?? null;
  }

  async getContactLidAndPhone(userIds: string[]): Promise<Array<{ lid?: string; pn?: string }>> {
    return userIds.map((id) => ({ lid: id, pn: this.lidPhones.get(id) }));
  }

  async requestPairingCode(): Promise<string> {
    return 'K7PX4Q2M';
  }
}
