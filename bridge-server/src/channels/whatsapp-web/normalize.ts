import type { z } from 'zod';
import { inboundEventSchema, statusEventSchema, type ClientIdentity, type Content, type InboundEvent, type StatusEvent } from '../../core/events.js';
import { BadInputError } from '../../core/errors.js';
import type { WebMessage, WebReaction } from './client-port.js';
import { chatIdOf, chatKindOf, isClientChat, phoneDigitsOf, reactionChatIdOf } from './jid.js';
import { isChatEventType, rawModelOf, toContent } from './normalize-content.js';

/**
 * whatsapp-web.js callbacks -> InboundEvent / StatusEvent. Pure: no I/O, no clock,
 * no logging; what needs the browser (the lid -> phone lookup, the quoted message's id, the
 * chat's name) the session looks up first and passes in the context. Every event returned has
 * passed the core schemas; one that cannot throws BadInputError `bad_message`.
 *
 * Identity: the chat is keyed on the phone JID. A `@lid` chat is
 * mapped to its phone number when the session knows it; otherwise the lid JID itself becomes the
 * userId (`<opaque>@lid`: chat keys allow `@`, not `:`), never a waId. A group is one
 * conversation whose client is the group (`userId` `<id>@g.us`), with the writer of each message
 * as its author.
 */
export interface NormalizeContext {
  /** The linked number: id = its digits (client.info.wid.user). */
  business: { id: string; displayNumber?: string };
  /** Phone digits for a `@lid` JID, when known. */
  phoneOf(lid: string): string | undefined;
  /** The chat's name in the firm's phone: group subject or contact name. */
  chatName?: string;
  /** `_serialized` id of the quoted message, when the message quotes one. */
  quotedWaMessageId?: string;
}

type InboundCandidate = z.input<typeof inboundEventSchema>;
type MessageCandidate = Extract<InboundCandidate, { kind: 'message' }>;

/**
 * A message (live message_create or fetched during catch-up) -> a `message` event; a message
 * already of type `revoked` -> the `deletion` event message_revoke_everyone would have given.
 * Undefined for chats that are not client chats and for notification types.
 */
export function normalizeMessage(message: WebMessage, context: NormalizeContext): InboundEvent | undefined {
  if (!isClientMessage(message)) return undefined;
  if (message.type === 'revoked') return normalizeRevoke(message, undefined, context);
  const raw = rawModelOf(message);
  const content = toContent(message, raw);
  if (!content) return undefined;
  const score = message.forwardingScore ?? 0;
  const candidate: MessageCandidate = {
    ...baseOf(message, chatIdOf(message), context, raw.notifyName),
    kind: 'message',
    waMessageId: message.id._serialized,
    versionKey: '',
    timestamp: secondsToMs(message.timestamp),
    content,
    quoted: context.quotedWaMessageId ? { waMessageId: context.quotedWaMessageId } : undefined,
    forwarded: message.isForwarded || score > 0 ? true : undefined,
    // WhatsApp labels a message "forwarded many times" once it passed through five or more chats.
    frequentlyForwarded: score >= 5 ? true : undefined,
    raw: { message: plain(message.rawData ?? message) },
  };
  const parsed = inboundEventSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  // Keep the record of a message whose content we cannot represent rather than lose it.
  const fallback: Content = { type: 'unsupported', originalType: message.type.slice(0, 128), note: 'The message content could not be read.' };
  return validated(inboundEventSchema, { ...candidate, content: fallback, quoted: undefined }, message.id._serialized);
}

/**
 * message_edit(message, newBody, prevBody) -> an `edit` event of the original message. Every
 * version is kept: the version key is the edit's time (`latestEditSenderTimestampMs`, or `now`
 * when WhatsApp Web gave none), so two edits are two events. The library also reports body
 * changes that are not edits (a body appearing once a message is decrypted); those are skipped.
 * WhatsApp only lets text and captions be edited, so the content is the new text.
 */
export function normalizeEdit(message: WebMessage, edit: { newBody: string; prevBody?: string }, context: NormalizeContext, now: number): InboundEvent | undefined {
  if (!isClientMessage(message) || message.type === 'revoked' || !isChatEventType(message.type)) return undefined;
  const editedAt = message.latestEditSenderTimestampMs;
  if (edit.newBody === edit.prevBody) return undefined;
  if (editedAt === undefined && !edit.prevBody) return undefined;
  const at = editedAt ?? now;
  return validated(
    inboundEventSchema,
    {
      ...baseOf(message, chatIdOf(message), context, undefined),
      kind: 'edit',
      waMessageId: message.id._serialized,
      versionKey: String(at),
      timestamp: at,
      targetWaMessageId: message.id._serialized,
      content: { type: 'text', body: edit.newBody },
      raw: { message: plain(message.rawData ?? message), newBody: edit.newBody, prevBody: edit.prevBody },
    } satisfies InboundCandidate,
    message.id._serialized,
  );
}

/**
 * message_revoke_everyone(after, before?) -> a `deletion` event naming the original message:
 * `after.protocolMessageKey` identifies it, `before` (best effort, may be missing) is the
 * original itself (whatsapp-web.js docs). The archived original stays; this only records the act.
 */
export function normalizeRevoke(after: WebMessage, before: WebMessage | null | undefined, context: NormalizeContext): InboundEvent | undefined {
  if (!isClientMessage(after)) return undefined;
  const target = after.protocolMessageKey?._serialized || before?.id._serialized || after.id._serialized;
  return validated(
    inboundEventSchema,
    {
      ...baseOf(after, chatIdOf(after), context, undefined),
      kind: 'deletion',
      waMessageId: after.id._serialized,
      versionKey: '',
      timestamp: secondsToMs(after.timestamp),
      targetWaMessageId: target,
      raw: { after: plain(after.rawData ?? after), before: before ? plain(before.rawData ?? before) : undefined },
    } satisfies InboundCandidate,
    after.id._serialized,
  );
}

/**
 * message_reaction(reaction) -> a `reaction` event; '' (removed) becomes null. The version key
 * is the reaction's time in whole seconds: the live event gives it as fractional seconds and
 * Message.getReactions() (catch-up) rounds it, so both spell the same key.
 */
export function normalizeReaction(reaction: WebReaction, context: NormalizeContext): InboundEvent | undefined {
  const chatId = reactionChatIdOf(reaction);
  if (!chatId || !isClientChat(chatId)) return undefined;
  const seconds = Math.round(reaction.timestamp);
  const fromMe = reaction.id.fromMe;
  return validated(
    inboundEventSchema,
    {
      channel: 'whatsapp-web',
      business: context.business,
      client: clientOf(chatId, context, undefined),
      direction: fromMe ? 'outbound' : 'inbound',
      author: chatKindOf(chatId) === 'group' && !fromMe ? authorOf(reaction.senderId, undefined, context) : undefined,
      kind: 'reaction',
      waMessageId: reaction.id._serialized,
      versionKey: String(seconds),
      timestamp: Math.round(reaction.timestamp * 1000),
      targetWaMessageId: reaction.msgId._serialized,
      emoji: reaction.reaction === '' ? null : reaction.reaction,
      raw: { reaction: plain(reaction) },
    } satisfies InboundCandidate,
    reaction.id._serialized,
  );
}

/**
 * message_ack(message, ack) -> the delivery status of a message the firm sent (MessageAck:
 * ACK_ERROR -1, PENDING 0, SERVER 1, DEVICE 2, READ 3, PLAYED 4). PENDING says nothing yet, and
 * acks of received messages are not delivery statuses: both give undefined. The event carries
 * no time, so `now` is the status time.
 */
export function normalizeAck(message: WebMessage, ack: number, context: Pick<NormalizeContext, 'business'>, now: number): StatusEvent | undefined {
  if (!message.fromMe || !isClientMessage(message)) return undefined;
  const status = statusOfAck(ack);
  if (!status) return undefined;
  return validated(
    statusEventSchema,
    {
      channel: 'whatsapp-web',
      business: context.business,
      waMessageId: message.id._serialized,
      status,
      timestamp: now,
      recipientId: chatIdOf(message),
      errors: status === 'failed' ? [{ code: -1, title: 'WhatsApp Web reported ACK_ERROR' }] : [],
      raw: { ack, message: { id: plain(message.id), type: message.type, timestamp: message.timestamp } },
    } satisfies z.input<typeof statusEventSchema>,
    message.id._serialized,
  );
}

export function statusOfAck(ack: number): StatusEvent['status'] | undefined {
  if (ack === -1) return 'failed';
  if (ack === 1) return 'sent';
  if (ack === 2) return 'delivered';
  if (ack >= 3) return 'read';
  return undefined;
}

function isClientMessage(message: WebMessage): boolean {
  return !message.isStatus && isClientChat(chatIdOf(message));
}

function baseOf(message: WebMessage, chatId: string, context: NormalizeContext, notifyName: string | undefined) {
  const group = chatKindOf(chatId) === 'group';
  return {
    channel: 'whatsapp-web' as const,
    business: context.business,
    // The sender's push name names the client in a one-to-one chat; never our own name.
    client: clientOf(chatId, context, message.fromMe || group ? undefined : notifyName),
    direction: message.fromMe ? ('outbound' as const) : ('inbound' as const),
    author: group && !message.fromMe && message.author ? authorOf(message.author, notifyName, context) : undefined,
  };
}

function clientOf(chatId: string, context: NormalizeContext, pushName: string | undefined): ClientIdentity {
  const name = truncate(context.chatName || pushName, 1024);
  switch (chatKindOf(chatId)) {
    case 'group':
      return { userId: chatId, name };
    case 'lid': {
      const phone = context.phoneOf(chatId);
      return phone ? { waId: phone, name } : { userId: chatId, name };
    }
    default: {
      const phone = phoneDigitsOf(chatId);
      return phone ? { waId: phone, name } : { userId: chatId, name };
    }
  }
}

function authorOf(jid: string, name: string | undefined, context: NormalizeContext): { id: string; name?: string } {
  const phone = chatKindOf(jid) === 'lid' ? context.phoneOf(jid) : phoneDigitsOf(jid);
  return { id: phone ?? jid, name: truncate(name, 1024) };
}

const truncate = (value: string | undefined, max: number): string | undefined => (value ? value.slice(0, max) : undefined);

const secondsToMs = (seconds: number): number => Math.round(seconds * 1000);

/**
 * The raw record as plain JSON data: library objects carry methods and a hidden client, and the
 * archive's canonical form must read back exactly as it was hashed.
 */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

function validated<T>(schema: z.ZodType<T>, candidate: unknown, waMessageId: string): T {
  const parsed = schema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  throw new BadInputError(
    'bad_message',
    `WhatsApp Web message ${waMessageId} cannot be turned into an event; see errors.`,
    parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
