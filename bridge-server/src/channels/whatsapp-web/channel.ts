import { BadInputError, UpstreamError } from '../../core/errors.js';
import type { Channel, OutboundMessage, SendReceipt } from '../../core/ports.js';
import { createWebMedia, type WebMedia, type WebMessage, type WebSendOptions } from './client-port.js';
import { classifyFailure, requireReady, service, withDeadline, type SessionView } from './upstream.js';

export interface WhatsAppWebChannelOptions {
  /** The session that owns the client (WhatsAppWebSession). */
  session: SessionView;
  /** Builds the MessageMedia for a file; the default is the library's own class. */
  createMedia?: (mimeType: string, base64: string, fileName: string | null, size: number | null) => WebMedia;
  /**
   * Send videos as videos rather than as documents. Only with Google Chrome as the browser:
   * WhatsApp Web needs its codecs to send video (whatsapp-web.js docs). Default false.
   */
  inlineVideo?: boolean;
  /** How long one send may take before it counts as a transient failure; default 60 s. */
  timeoutMs?: number;
  now?: () => number;
}

/** Images WhatsApp shows inline; anything else goes as a document, byte for byte. */
const inlineImages = new Set(['image/jpeg', 'image/png']);
const inlineVideos = new Set(['video/mp4', 'video/3gpp']);

/**
 * Sends the firm's replies through the linked phone's WhatsApp Web session (whatsapp-web.js docs).
 * whatsapp-web.js is unofficial and WhatsApp may ban a number that uses it: the Cloud API is the
 * channel firms should prefer.
 */
export class WhatsAppWebChannel implements Channel {
  readonly kind = 'whatsapp-web' as const;
  private readonly session: SessionView;
  private readonly createMedia: NonNullable<WhatsAppWebChannelOptions['createMedia']>;
  private readonly inlineVideo: boolean;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: WhatsAppWebChannelOptions) {
    this.session = options.session;
    this.createMedia = options.createMedia ?? createWebMedia;
    this.inlineVideo = options.inlineVideo ?? false;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.now = options.now ?? (() => Date.now());
  }

  /**
   * Sends one WhatsApp message: the text, or one file with the text as its caption, quoting
   * `quotedWaMessageId` when given. Called from the wa.send job; blocks until WhatsApp Web
   * accepted the message (not until it is delivered: acks arrive later as statuses). Does not
   * mark the chat read on the phone (`sendSeen: false`), so solicitors still see unread badges.
   * Throws BadInputError for what this channel cannot send (templates, several files, nothing),
   * UpstreamError transient when the session is not connected or the page failed, permanent when
   * WhatsApp Web rejects the chat id or the session is linked to another number.
   */
  async send(message: OutboundMessage): Promise<SendReceipt> {
    if (message.template) {
      throw new BadInputError('template_unsupported', 'WhatsApp Web cannot send message templates; templates need the WhatsApp Business Cloud API channel.');
    }
    if (message.files.length > 1) {
      throw new BadInputError('too_many_files', `One WhatsApp message carries at most one file; this one has ${message.files.length}. Send each file as its own message.`);
    }
    const file = message.files[0];
    const text = message.text ?? '';
    if (!file && text.trim() === '') throw new BadInputError('empty_message', 'The message has neither text nor a file, so there is nothing to send.');
    const chatId = toChatId(message.to);
    if (!chatId) throw new UpstreamError(service, `Could not send: "${message.to.slice(0, 80)}" is not a WhatsApp chat id or phone number.`, 'permanent');

    const client = requireReady(this.session, message.businessId, `send to ${chatId}`);
    const options: WebSendOptions = { sendSeen: false, ...(message.quotedWaMessageId ? { quotedMessageId: message.quotedWaMessageId } : {}) };
    let content: string | WebMedia = text;
    if (file) {
      content = this.createMedia(file.mimeType, file.bytes.toString('base64'), file.fileName, file.bytes.length);
      if (text !== '') options.caption = text;
      if (!this.isInline(file.mimeType)) options.sendMediaAsDocument = true;
    }
    let sent;
    try {
      const send = () => withDeadline(client.sendMessage(chatId, content, options), this.timeoutMs, `send to ${chatId}`, true);
      sent = this.session.trackSend ? await this.session.trackSend(chatId, send, (m) => m?.id._serialized) : await send();
    } catch (error) {
      throw classifyFailure(error, `send to ${chatId}`);
    }
    // The library resolves undefined when WhatsApp Web has no chat for the id.
    if (!sent) throw new UpstreamError(service, `Could not send: WhatsApp Web has no chat ${chatId}.`, 'permanent');
    const timestamp = Number.isFinite(sent.timestamp) && sent.timestamp > 0 ? Math.round(sent.timestamp * 1000) : this.now();
    return { waMessageId: sent.id._serialized, timestamp };
  }

  /**
   * The firm's messages in the chat that look like `message` (the same text, or a file of the same
   * kind with the same caption and name, quoting when it quotes), sent through WhatsApp Web as the
   * bridge sends (not typed on the phone), stamped no earlier than `since` less a minute (WhatsApp
   * stamps messages in whole seconds, by its own clock). Looks back over the chat's newest 50 of
   * the firm's messages; oldest first.
   */
  async findSent(message: OutboundMessage, since: number): Promise<SendReceipt[]> {
    const chatId = toChatId(message.to);
    if (!chatId || message.template || message.files.length > 1) return [];
    const client = requireReady(this.session, message.businessId, `look for an earlier send to ${chatId}`);
    let recent;
    try {
      const chat = await withDeadline(client.getChatById(chatId), this.timeoutMs, `open chat ${chatId}`);
      recent = await withDeadline(chat.fetchMessages({ limit: 50, fromMe: true }), this.timeoutMs, `read chat ${chatId}`);
    } catch (error) {
      throw classifyFailure(error, `look for an earlier send to ${chatId}`);
    }
    const file = message.files[0];
    const expected = { type: file ? this.typeOf(file.mimeType) : 'chat', body: message.text ?? '', fileName: file?.fileName ?? undefined, quotes: message.quotedWaMessageId !== undefined };
    return recent
      .filter((m) => m.fromMe && (m.deviceType === undefined || m.deviceType === 'web') && m.timestamp * 1000 >= since - 60_000)
      .filter((m) => m.type === expected.type && m.body === expected.body && m.hasQuotedMsg === expected.quotes)
      .filter((m) => {
        const name = sentFileName(m);
        return expected.fileName === undefined || name === undefined || name === expected.fileName;
      })
      .sort((a, b) => a.timestamp - b.timestamp)
      .map((m) => ({ waMessageId: m.id._serialized, timestamp: m.timestamp * 1000 }));
  }

  /** The WhatsApp type a file is sent as: inline image or video, else document. */
  private typeOf(mimeType: string): string {
    if (!this.isInline(mimeType)) return 'document';
    return mimeType.toLowerCase().startsWith('video/') ? 'video' : 'image';
  }

  private isInline(mimeType: string): boolean {
    const type = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
    return inlineImages.has(type) || (this.inlineVideo && inlineVideos.has(type));
  }
}

/** The file name a media message carries in its model (`_data.filename`), when it has one. */
function sentFileName(message: WebMessage): string | undefined {
  const name = (message.rawData as { filename?: unknown } | undefined)?.filename;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The chat JID for an OutboundMessage's `to`: a JID as stored (`…@c.us`, `…@g.us`, `…@lid`) or a
 * phone number in international digits, with or without "+". Undefined for anything else.
 */
export function toChatId(to: string): string | undefined {
  const value = to.trim();
  const digits = /^\+?(\d{6,20})$/.exec(value)?.[1];
  if (digits) return `${digits}@c.us`;
  return /^[A-Za-z0-9._-]{1,128}@(c\.us|g\.us|lid)$/.test(value) ? value : undefined;
}
