import { z } from 'zod';
import type { Content, MediaRef, MediaType } from '../../core/events.js';
import type { WebLocation, WebMessage } from './client-port.js';
import { parseVCards } from './vcard-parse.js';

/**
 * Maps one whatsapp-web.js Message to our Content (whatsapp-web.js docs, one case per type we relay).
 * Pure. `undefined` means "not a chat event": notifications, protocol messages and undecrypted
 * placeholders that the library or WhatsApp itself reports as separate events.
 */

/**
 * The fields of WhatsApp Web's own message model (`message.rawData`) this adapter reads. Each
 * field falls back to undefined on its own, so one odd field never loses the message.
 */
const rawModelSchema = z.looseObject({
  mimetype: z.string().min(1).max(255).optional().catch(undefined),
  filename: z.string().max(1024).optional().catch(undefined),
  /** Base64 SHA-256 of the decrypted file; WhatsApp Web checks downloads against it. */
  filehash: z.string().max(128).optional().catch(undefined),
  /** The sender's own profile name (push name). */
  notifyName: z.string().max(1024).optional().catch(undefined),
  isGif: z.boolean().optional().catch(undefined),
});
export type RawModel = z.infer<typeof rawModelSchema>;

export function rawModelOf(message: Pick<WebMessage, 'rawData'>): RawModel {
  const parsed = rawModelSchema.safeParse(message.rawData ?? {});
  return parsed.success ? parsed.data : {};
}

/**
 * Types that are not messages someone wrote: group and security notifications, call and protocol
 * records, reactions (their own event), album containers (each picture arrives as its own
 * message), and `ciphertext`, which emits message_create again once decrypted (whatsapp-web.js docs).
 */
const notChatEvents: ReadonlySet<string> = new Set([
  'ciphertext',
  'protocol',
  'reaction',
  'album',
  'e2e_notification',
  'notification',
  'notification_template',
  'group_notification',
  'gp2',
  'broadcast_notification',
  'debug',
]);
export const isChatEventType = (type: string): boolean => !notChatEvents.has(type);

const defaultMime: Record<MediaType, string> = {
  image: 'image/jpeg',
  video: 'video/mp4',
  audio: 'audio/ogg',
  document: 'application/octet-stream',
  sticker: 'image/webp',
};

export function toContent(message: WebMessage, raw: RawModel): Content | undefined {
  switch (message.type) {
    case 'chat':
      return { type: 'text', body: message.body };
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return toMedia(message.type, message, raw);
    case 'ptt':
      // A voice note is audio recorded in the chat (Cloud API: audio with voice=true).
      return toMedia('audio', message, raw, { voice: true });
    case 'location':
      return toLocation(message.location);
    case 'vcard':
    case 'multi_vcard': {
      const contacts = parseVCards(message.vCards ?? []);
      return contacts.length > 0 ? { type: 'contacts', contacts: contacts.slice(0, 257) } : unsupported(message.type, 'The contact card could not be read.');
    }
    case 'list_response':
      return { type: 'interactive', replyType: 'list_reply', replyId: message.selectedRowId, title: message.body || undefined };
    case 'buttons_response':
      return { type: 'interactive', replyType: 'button_reply', replyId: message.selectedButtonId, title: message.body || undefined };
    case 'template_button_reply':
      // A tap on a template's quick-reply button: the Cloud API calls this a "button" message.
      return { type: 'button', text: message.body, payload: message.selectedButtonId };
    default:
      if (!isChatEventType(message.type)) return undefined;
      // poll_creation, order, product, payment, groups_v4_invite, call_log, ... and later types.
      return unsupported(message.type);
  }
}

function toMedia(type: MediaType, message: WebMessage, raw: RawModel, extra: Pick<MediaRef, 'voice'> = {}): Content {
  const media: MediaRef = {
    // whatsapp-web.js downloads media through the message itself, so its id is the media id.
    waMediaId: message.id._serialized,
    mimeType: raw.mimetype ?? defaultMime[type],
    sha256: raw.filehash,
    fileName: raw.filename || undefined,
    caption: message.body || undefined,
    ...extra,
    ...(type === 'video' && (message.isGif || raw.isGif) ? { animated: true } : {}),
  };
  return { type, media };
}

function toLocation(location: WebLocation | undefined): Content {
  const latitude = Number(location?.latitude);
  const longitude = Number(location?.longitude);
  if (!location || !Number.isFinite(latitude) || !Number.isFinite(longitude)) return unsupported('location', 'The location had no coordinates.');
  // 1.34 puts name/address/url at the top level; older releases nested them in `description`.
  const nested = typeof location.description === 'object' ? location.description : undefined;
  return {
    type: 'location',
    latitude,
    longitude,
    name: location.name || nested?.name || undefined,
    address: location.address || nested?.address || undefined,
    url: location.url || nested?.url || undefined,
  };
}

const unsupported = (originalType: string, note?: string): Content => ({ type: 'unsupported', originalType: originalType.slice(0, 128), note });
