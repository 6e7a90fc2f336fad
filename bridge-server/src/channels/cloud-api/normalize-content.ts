import type { Content, MediaRef, MediaType, SharedContact } from '../../core/events.js';
import type { CloudContactCard, CloudEditedMessage, CloudMedia, CloudMessage } from './payload.js';

/**
 * Maps the type object of one Cloud API message to our Content (Meta messages webhook reference, one case per
 * documented type). Pure. Anything we do not know, or that WhatsApp itself could not deliver,
 * becomes `unsupported` content naming the original type; the event keeps the raw JSON.
 */
export function toContent(message: CloudMessage | CloudEditedMessage): Content {
  switch (message.type) {
    case 'text':
      return message.text ? { type: 'text', body: message.text.body } : missing('text');
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return toMediaContent(message.type, message[message.type]);
    case 'location': {
      const location = message.location;
      if (!location) return missing('location');
      return { type: 'location', latitude: location.latitude, longitude: location.longitude, name: location.name, address: location.address, url: location.url };
    }
    case 'contacts':
      return message.contacts ? { type: 'contacts', contacts: message.contacts.map(toSharedContact) } : missing('contacts');
    case 'interactive':
      return toInteractiveContent(message.interactive);
    case 'button':
      return message.button ? { type: 'button', text: message.button.text, payload: message.button.payload } : missing('button');
    case 'unsupported':
      return toUnsupportedContent(message);
    case 'system': {
      const system = message.system;
      if (!system) return missing('system');
      return {
        type: 'system',
        body: system.body ?? '',
        systemType: system.type,
        newWaId: nonEmpty(system.wa_id) ?? nonEmpty(system.new_wa_id),
        // The BSUID doc names previous_user_id on identity-change events (unverified).
        previousUserId: nonEmpty(system.previous_user_id),
      };
    }
    default:
      // order, request_welcome and any type Meta adds later: archived raw, mirrored as unsupported.
      return { type: 'unsupported', originalType: message.type };
  }
}

function toMediaContent(type: MediaType, media: CloudMedia | undefined): Content {
  if (!media) return missing(type);
  const ref: MediaRef = {
    waMediaId: media.id,
    // The reference pages always show mime_type; a default keeps a message whose type is lost.
    mimeType: nonEmpty(media.mime_type) ?? 'application/octet-stream',
    sha256: nonEmpty(media.sha256),
    fileName: nonEmpty(media.filename),
    caption: media.caption,
    voice: media.voice,
    animated: media.animated,
  };
  return { type, media: ref };
}

function toInteractiveContent(interactive: CloudMessage['interactive']): Content {
  if (!interactive) return missing('interactive');
  switch (interactive.type) {
    case 'button_reply':
    case 'list_reply': {
      const reply = interactive[interactive.type];
      return { type: 'interactive', replyType: interactive.type, replyId: reply?.id, title: reply?.title, description: reply?.description };
    }
    case 'nfm_reply': {
      // WhatsApp Flows: the answers arrive as a JSON string, kept exactly as sent.
      const reply = interactive.nfm_reply;
      return { type: 'interactive', replyType: 'nfm_reply', title: reply?.body, description: reply?.name, responseJson: reply?.response_json };
    }
    default:
      return { type: 'interactive', replyType: interactive.type };
  }
}

/** `unsupported.type` names what it was (poll, edit, ...); older payloads only carry errors[0]. */
function toUnsupportedContent(message: CloudMessage | CloudEditedMessage): Content {
  const error = message.errors?.[0];
  const originalType = nonEmpty(message.unsupported?.type) ?? nonEmpty(error?.title) ?? 'unsupported';
  const note = error ? [String(error.code), error.title, error.error_data?.details].filter(Boolean).join(': ') : undefined;
  return { type: 'unsupported', originalType, note };
}

function toSharedContact(card: CloudContactCard): SharedContact {
  const name = card.name;
  const phones = (card.phones ?? []).flatMap((p) => {
    const phone = nonEmpty(p.phone) ?? nonEmpty(p.wa_id);
    return phone ? [{ phone, waId: nonEmpty(p.wa_id), type: p.type }] : [];
  });
  const joined = [name?.first_name, name?.last_name].filter((part) => nonEmpty(part)).join(' ');
  return {
    // Users may withhold any field (Meta contacts reference), so fall back to what is there.
    formattedName: nonEmpty(name?.formatted_name) ?? nonEmpty(joined) ?? phones[0]?.phone ?? 'Unnamed contact',
    firstName: name?.first_name,
    lastName: name?.last_name,
    phones,
    emails: (card.emails ?? []).flatMap((e) => present(e.email, (email) => ({ email, type: e.type }))),
    urls: (card.urls ?? []).flatMap((u) => present(u.url, (url) => ({ url, type: u.type }))),
    org: card.org ? { company: card.org.company, department: card.org.department, title: card.org.title } : undefined,
    addresses: (card.addresses ?? []).map((a) => ({ street: a.street, city: a.city, state: a.state, zip: a.zip, country: a.country, type: a.type })),
    birthday: card.birthday,
  };
}

const present = <T>(value: string | undefined, make: (value: string) => T): T[] => {
  const kept = nonEmpty(value);
  return kept === undefined ? [] : [make(kept)];
};

/** payload.ts insists the type object is present, so this only guards the type system. */
function missing(type: string): Content {
  return { type: 'unsupported', originalType: type, note: `the "${type}" object was missing` };
}

/** The BSUID rollout sends "" for withheld phone numbers; treat empty as absent. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
