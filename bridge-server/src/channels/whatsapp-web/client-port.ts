import { createRequire } from 'node:module';
import path from 'node:path';
import type WAWebJS from 'whatsapp-web.js';

/**
 * The library, loaded on first use: it and puppeteer under it are a large share of what a
 * bridge would otherwise load at start, and a bridge on the Cloud API never uses them.
 */
let loaded: typeof WAWebJS | undefined;
function whatsappWeb(): typeof WAWebJS {
  return (loaded ??= createRequire(import.meta.url)('whatsapp-web.js') as typeof WAWebJS);
}

/**
 * The part of a whatsapp-web.js 1.34 `Client` this adapter uses, typed from the library's
 * documented shapes (index.d.ts, src/structures/*.js). The real Client is passed
 * as it is; the check at the bottom of this file makes the compiler prove it fits. Tests pass a
 * double that follows the same contract.
 */

/** A message key. Message objects carry `remote` as a string; reaction keys may carry the Wid object. */
export interface WebMessageKey {
  fromMe: boolean;
  remote: string | { _serialized: string };
  id: string;
  /** `{fromMe}_{remote}_{id}` (+ `_{participant}` in groups): the idempotency key (whatsapp-web.js docs). */
  _serialized: string;
}

/** MessageMedia: what downloadMedia() resolves to and what sendMessage() accepts for a file. */
export interface WebMedia {
  mimetype: string;
  /** Base64 of the bytes. */
  data: string;
  filename?: string | null;
  filesize?: number | null;
}

/**
 * Location as 1.34 builds it: name, address and url at the top level and `description` their
 * joined text (src/structures/Location.js). Older releases nested them in `description`.
 */
export interface WebLocation {
  latitude: number | string;
  longitude: number | string;
  name?: string;
  address?: string;
  url?: string;
  description?: string | { name?: string; address?: string; url?: string };
}

export interface WebMessage {
  id: WebMessageKey & { remote: string };
  /** Chat id for received messages; our own id for sent ones. */
  from: string;
  /** The other side for sent messages; our own id for received ones. */
  to: string;
  /** The participant in a group chat; undefined in a 1:1 chat. */
  author?: string;
  fromMe: boolean;
  type: string;
  /** Text, or the caption of a media message. */
  body: string;
  /** Unix seconds. */
  timestamp: number;
  ack?: number;
  /** True when the message has a directPath, i.e. media that can be downloaded. */
  hasMedia: boolean;
  hasQuotedMsg: boolean;
  hasReaction?: boolean;
  isForwarded?: boolean;
  /** At most 127; 5 or more is WhatsApp's "forwarded many times". */
  forwardingScore?: number;
  /** 'android' or 'ios' for a message written on a phone, 'web' for WhatsApp Web or desktop (the library reads it off the id). */
  deviceType?: string;
  isStatus?: boolean;
  isGif?: boolean;
  location?: WebLocation;
  vCards?: string[];
  selectedButtonId?: string;
  selectedRowId?: string;
  latestEditSenderTimestampMs?: number;
  /** On a revoked message: the key of the message that was deleted. */
  protocolMessageKey?: WebMessageKey;
  /** WhatsApp Web's own serialized model (mimetype, filename, filehash, notifyName, ...). */
  rawData?: object;
  /** Resolves undefined (or null) when the media cannot be resolved any more (whatsapp-web.js known issues). */
  downloadMedia(): Promise<WebMedia | null | undefined>;
  getQuotedMessage(): Promise<WebMessage | null | undefined>;
  getReactions?(): Promise<Array<{ id: string; senders: WebReaction[] }> | undefined>;
}

/** A reaction (src/structures/Reaction.js). `timestamp` is unix seconds, possibly fractional. */
export interface WebReaction {
  /** The reaction's own key. */
  id: WebMessageKey;
  /** The key of the message reacted to. */
  msgId: WebMessageKey;
  /** The emoji; '' when the reaction was removed. */
  reaction: string;
  senderId: string;
  timestamp: number;
  orphan?: number;
  ack?: number;
}

export interface WebChat {
  id: { _serialized: string; server?: string; user?: string };
  name?: string;
  isGroup: boolean;
  /** Unix seconds of the last activity. */
  timestamp?: number;
  /** The newest `limit` messages, oldest first; only the firm's own with `fromMe: true` (src/structures/Chat.js). */
  fetchMessages(options: { limit?: number; fromMe?: boolean }): Promise<WebMessage[]>;
}

export interface WebSendOptions {
  quotedMessageId?: string;
  caption?: string;
  sendSeen?: boolean;
  sendMediaAsDocument?: boolean;
  linkPreview?: boolean;
}

/** The client events this adapter listens to, with the library's argument lists. */
export interface WebClientEvents {
  qr: (qr: string) => void;
  code: (code: string) => void;
  authenticated: () => void;
  auth_failure: (message: string) => void;
  ready: () => void;
  /** reason: a WAState or "LOGOUT"; the library destroys the client right after. */
  disconnected: (reason: string) => void;
  message_create: (message: WebMessage) => void;
  message_edit: (message: WebMessage, newBody: string, prevBody: string) => void;
  message_revoke_everyone: (after: WebMessage, before?: WebMessage | null) => void;
  message_reaction: (reaction: WebReaction) => void;
  message_ack: (message: WebMessage, ack: number) => void;
}
export type WebClientEvent = keyof WebClientEvents;

export interface WebClient {
  /** Set once the client is ready: `wid.user` is the linked number's digits. */
  readonly info?: { wid: { user: string; _serialized: string }; pushname?: string } | null;
  on<E extends WebClientEvent>(event: E, listener: WebClientEvents[E]): unknown;
  once<E extends WebClientEvent>(event: E, listener: WebClientEvents[E]): unknown;
  removeListener<E extends WebClientEvent>(event: E, listener: WebClientEvents[E]): unknown;
  /** Launches the browser and opens WhatsApp Web; rejects when that fails (offline, no Chromium). */
  initialize(): Promise<void>;
  /** Closes the browser. */
  destroy(): Promise<void>;
  /** Resolves the sent message, or undefined when the chat does not exist. */
  sendMessage(chatId: string, content: string | WebMedia, options?: WebSendOptions): Promise<WebMessage | undefined>;
  getChats(): Promise<WebChat[]>;
  getChatById(chatId: string): Promise<WebChat>;
  /** null when the message is not in WhatsApp Web's store. */
  getMessageById(messageId: string): Promise<WebMessage | null>;
  /** lid <-> phone number for each id given (PR #3673); either may be undefined. */
  getContactLidAndPhone(userIds: string[]): Promise<Array<{ lid?: string; pn?: string }>>;
  requestPairingCode(phoneNumber: string, showNotification?: boolean, intervalMs?: number): Promise<string>;
}

export interface WebClientOptions {
  /** The bridge's data directory; the session lives in `<dataDir>/whatsapp-web`. */
  dataDir: string;
  /** Chromium or Chrome binary; default /usr/bin/chromium (Debian). */
  chromiumPath?: string;
  /** Link by pairing code sent to this number (digits, international) instead of a QR code. */
  pairPhoneNumber?: string;
}

/** Flags for Chromium in a container (whatsapp-web.js troubleshooting). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-setuid-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where LocalAuth keeps the Chromium profile: one directory per linked number, never shared. */
export const sessionDir = (dataDir: string): string => path.join(dataDir, 'whatsapp-web');

/**
 * Builds the real client: LocalAuth under the data dir, the system Chromium (puppeteer's own
 * download is skipped by .puppeteerrc.cjs), and no web-version cache, so the version the library
 * pins is used. Only app.ts calls this; it starts nothing until `initialize()`.
 */
export function createWebClient(options: WebClientOptions): WebClient {
  const { Client, LocalAuth } = whatsappWeb();
  return new Client({
    authStrategy: new LocalAuth({ dataPath: sessionDir(options.dataDir) }),
    puppeteer: { executablePath: options.chromiumPath ?? '/usr/bin/chromium', args: chromiumArgs, headless: true },
    webVersionCache: { type: 'none' },
    ...(options.pairPhoneNumber ? { pairWithPhoneNumber: { phoneNumber: options.pairPhoneNumber } } : {}),
  });
}

/**
 * A real MessageMedia: sendMessage() recognises a file by `instanceof MessageMedia`
 * (src/Client.js), so a plain object with the same fields would be sent as text.
 */
export function createWebMedia(mimeType: string, base64: string, fileName: string | null, size: number | null): WebMedia {
  return new (whatsappWeb().MessageMedia)(mimeType, base64, fileName, size);
}

// The compiler proves the library's own types fit this port; a library upgrade that changes a
// shape we rely on fails the type-check here rather than at run time.
type IsAny<T> = 0 extends 1 & T ? true : false;
type Fits<Real, Port> = IsAny<Real> extends true ? false : [Real] extends [Port] ? true : false;
const realClientFits: Fits<WAWebJS.Client, WebClient> = true;
const realMessageFits: Fits<WAWebJS.Message, WebMessage> = true;
const realChatFits: Fits<WAWebJS.Chat, WebChat> = true;
const realReactionFits: Fits<WAWebJS.Reaction, WebReaction> = true;
void [realClientFits, realMessageFits, realChatFits, realReactionFits];
