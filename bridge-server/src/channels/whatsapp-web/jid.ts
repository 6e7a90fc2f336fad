import type { WebMessage, WebMessageKey } from './client-port.js';

/**
 * WhatsApp ids (JIDs) as whatsapp-web.js writes them (whatsapp-web.js docs): `<digits>@c.us` a
 * person by phone number, `<opaque>@lid` a person by linked (privacy) identity, `<id>@g.us` a
 * group, `status@broadcast` status updates, `<id>@broadcast` broadcast lists, `<id>@newsletter`
 * channels. Pure helpers; the only place that knows these spellings.
 */
export type ChatKind = 'phone' | 'lid' | 'group' | 'other';

export function chatKindOf(jid: string): ChatKind {
  const server = jid.slice(jid.lastIndexOf('@') + 1);
  if (server === 'c.us' || server === 's.whatsapp.net') return 'phone';
  if (server === 'lid') return 'lid';
  if (server === 'g.us') return 'group';
  return 'other';
}

/** Only one-to-one chats and groups are client chats; status, broadcast lists and channels are not. */
export const isClientChat = (jid: string): boolean => chatKindOf(jid) !== 'other';

/** The user part before `@`, without a device suffix (`447700900123:12@c.us` -> `447700900123`). */
export function userPartOf(jid: string): string {
  const at = jid.indexOf('@');
  const user = at === -1 ? jid : jid.slice(0, at);
  const colon = user.indexOf(':');
  return colon === -1 ? user : user.slice(0, colon);
}

/** The phone number digits of a phone JID, or undefined for any other kind of id. */
export function phoneDigitsOf(jid: string): string | undefined {
  if (chatKindOf(jid) !== 'phone') return undefined;
  const digits = userPartOf(jid);
  return /^\d{4,20}$/.test(digits) ? digits : undefined;
}

/** A key's chat: `remote` is a string on messages, and may be the Wid object on reaction keys. */
export function remoteOf(key: Pick<WebMessageKey, 'remote'> | undefined): string | undefined {
  if (!key) return undefined;
  return typeof key.remote === 'string' ? key.remote : key.remote?._serialized;
}

/** The chat a message belongs to, for both directions (the library's Message._getChatId). */
export function chatIdOf(message: Pick<WebMessage, 'id' | 'fromMe' | 'from' | 'to'>): string {
  return remoteOf(message.id) || (message.fromMe ? message.to : message.from);
}

/**
 * The chat a reaction belongs to: the reacted-to message's chat. Reaction keys carry the chat in
 * `remote`; the sender is `senderId`.
 */
export function reactionChatIdOf(reaction: { msgId?: WebMessageKey; id?: WebMessageKey }): string | undefined {
  return remoteOf(reaction.msgId) ?? remoteOf(reaction.id);
}
