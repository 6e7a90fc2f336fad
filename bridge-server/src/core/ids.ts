import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Branded ids with make/parse pairs. A ChatKey names one client chat on one firm business
 * number: `<business number id>:<client id>`, the client id being the Cloud API's
 * business-scoped `user_id` when known at first contact, else the phone number (wa_id).
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type ChatKey = Brand<string, 'ChatKey'>;
export type ChatToken = Brand<string, 'ChatToken'>;

// The client part may be a whatsapp-web.js JID (digits@c.us, id@g.us for a group chat).
const chatKeyPattern = /^[A-Za-z0-9._+-]{1,64}:[A-Za-z0-9._+@-]{1,160}$/;

export function makeChatKey(businessNumberId: string, clientId: string): ChatKey {
  return parseChatKey(`${businessNumberId}:${clientId}`);
}

export function parseChatKey(value: string): ChatKey {
  if (!chatKeyPattern.test(value)) throw new TypeError(`not a chat key: ${JSON.stringify(value)}`);
  return value as ChatKey;
}

/** RFC 4648 base32, lower-case, no padding: dot-atom safe for Message-IDs and local parts. */
export function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

export const sha256 = (input: string | Uint8Array): Buffer => createHash('sha256').update(input).digest();

/**
 * The chat token: 26 base32 characters (130 bits) of a versioned hash of tenant, channel and
 * chat key. It names the chat in the root Message-ID, the subject tag, `X-WhatsApp-Chat-Id` and
 * the reply address, and is stable for the life of the chat.
 */
export function makeChatToken(tenant: string, channel: string, chatKey: ChatKey): ChatToken {
  return base32(sha256(`wa-bridge:v1:${tenant}:${channel}:chat:${chatKey}`)).slice(0, 26) as ChatToken;
}

export function parseChatToken(value: string): ChatToken {
  if (!/^[a-z2-7]{26}$/.test(value)) throw new TypeError('not a chat token');
  return value as ChatToken;
}

/**
 * The reply token in `wa+<token>@<domain>`: chat token plus a keyed MAC, so an address cannot be
 * forged for a chat by someone who only knows the chat token.
 */
export function makeReplyToken(secret: Uint8Array, chatToken: ChatToken): string {
  const mac = base32(createHmac('sha256', secret).update(`reply:${chatToken}`).digest()).slice(0, 16);
  return `${chatToken}.${mac}`;
}

/** Checks a reply token from an address against the one this secret issues, in constant time. */
export function isReplyTokenValid(secret: Uint8Array, chatToken: ChatToken, token: string): boolean {
  const expected = Buffer.from(makeReplyToken(secret, chatToken));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
