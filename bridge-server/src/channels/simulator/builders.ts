import { randomBytes } from 'node:crypto';

/**
 * Builders for Cloud API `messages` webhooks as Meta documents them (Meta "messages webhook reference";
 * Meta "messages webhook reference" pages). Part of the simulator, a test double of a service no
 * test can reach: the shapes follow the reference, the ids are made up.
 */

/** The firm's side of the simulated account. */
export interface SimulatedBusiness {
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber: string;
}

export const defaultSimulatedBusiness: SimulatedBusiness = { wabaId: '102290129340398', phoneNumberId: '106540352242922', displayPhoneNumber: '442071234567' };

export interface WebhookChange {
  field: string;
  value: Record<string, unknown>;
}
export interface WebhookEnvelope {
  object: 'whatsapp_business_account';
  entry: Array<{ id: string; changes: WebhookChange[] }>;
}

/** A media item the simulator serves, as returned by `Simulator.addMedia`. */
export interface MediaInput {
  id: string;
  mimeType: string;
  /** Base64, as webhooks carry it (Meta image reference). */
  sha256?: string;
}

/** A shared contact card in Meta's own field names (Meta contacts reference). */
export interface ContactCardInput {
  name: { formatted_name: string; first_name?: string; last_name?: string };
  phones?: Array<{ phone: string; wa_id?: string; type?: string }>;
  emails?: Array<{ email: string; type?: string }>;
  urls?: Array<{ url: string; type?: string }>;
  org?: { company?: string; department?: string; title?: string };
  addresses?: Array<{ street?: string; city?: string; state?: string; zip?: string; country?: string; country_code?: string; type?: string }>;
  birthday?: string;
}

export type InboundContent =
  | { type: 'text'; body: string }
  | { type: 'image' | 'video'; media: MediaInput; caption?: string }
  | { type: 'audio'; media: MediaInput; voice?: boolean }
  | { type: 'document'; media: MediaInput; caption?: string; filename?: string }
  | { type: 'sticker'; media: MediaInput; animated?: boolean }
  /** `placeName` is the location's `name`: `name` is the sender's profile name. */
  | { type: 'location'; latitude: number; longitude: number; placeName?: string; address?: string; url?: string }
  | { type: 'contacts'; contacts: ContactCardInput[] }
  | { type: 'button_reply'; replyId: string; title: string }
  | { type: 'list_reply'; replyId: string; title: string; description?: string }
  | { type: 'nfm_reply'; responseJson: string; body?: string }
  | { type: 'button'; text: string; payload?: string }
  /** emoji omitted = the reaction was removed (Meta reaction reference). */
  | { type: 'reaction'; messageId: string; emoji?: string }
  | { type: 'unsupported'; unsupportedType: string }
  | { type: 'system'; body: string; systemType: string; newWaId?: string; newUserId?: string; previousUserId?: string }
  /** Coexistence numbers only (Meta messages webhook reference). */
  | { type: 'edit'; originalMessageId: string; body: string }
  | { type: 'revoke'; originalMessageId: string };

export interface SenderInput {
  /** The client's phone number; "" for a username user whose number is withheld (BSUID doc). */
  from: string;
  name?: string;
  /** Business-scoped user id (BSUID), e.g. "GB.1502576394655843". */
  userId?: string;
  username?: string;
  /** Defaults to a fresh wamid. */
  id?: string;
  /** Unix seconds or a Date; defaults to now. */
  timestamp?: number | Date;
  context?: { id?: string; from?: string; forwarded?: boolean; frequentlyForwarded?: boolean };
}

export type InboundMessageInput = SenderInput & InboundContent;

export function newWaMessageId(): string {
  return `wamid.${randomBytes(30).toString('base64')}`;
}

/** One inbound message in a full envelope, with its contacts[] entry (none for `system`). */
export function inboundMessage(input: InboundMessageInput, business: SimulatedBusiness = defaultSimulatedBusiness): WebhookEnvelope {
  const message: Record<string, unknown> = {
    from: input.from,
    ...(input.userId ? { from_user_id: input.userId } : {}),
    id: input.id ?? newWaMessageId(),
    timestamp: unixSeconds(input.timestamp),
    ...contextOf(input.context),
    ...contentOf(input),
  };
  // System messages webhooks carry no contacts array (Meta system reference).
  const contacts =
    input.type === 'system'
      ? undefined
      : [{ profile: { name: input.name ?? '', ...(input.username ? { username: input.username } : {}) }, wa_id: input.from, ...(input.userId ? { user_id: input.userId } : {}) }];
  return envelope(business, { ...(contacts ? { contacts } : {}), messages: [message] });
}

export interface StatusInput {
  /** The wamid the firm's send returned. */
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  recipientId: string;
  recipientUserId?: string;
  timestamp?: number | Date;
  callbackData?: string;
  errors?: Array<{ code: number; title: string; details?: string }>;
}

/** A status webhook for a message the firm sent (Meta status webhook reference). */
export function statusUpdate(input: StatusInput, business: SimulatedBusiness = defaultSimulatedBusiness): WebhookEnvelope {
  const status: Record<string, unknown> = {
    id: input.id,
    status: input.status,
    timestamp: unixSeconds(input.timestamp),
    recipient_id: input.recipientId,
    ...(input.recipientUserId ? { recipient_user_id: input.recipientUserId } : {}),
    ...(input.callbackData ? { biz_opaque_callback_data: input.callbackData } : {}),
  };
  if (input.status === 'sent' || input.status === 'delivered') {
    status.pricing = { billable: true, pricing_model: 'PMP', category: 'service', type: 'free_customer_service' };
  }
  if (input.errors) {
    status.errors = input.errors.map((e) => ({
      code: e.code,
      title: e.title,
      message: e.title,
      error_data: { details: e.details ?? e.title },
      href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
    }));
  }
  return envelope(business, { statuses: [status] });
}

/**
 * Merges envelopes into one delivery the way Meta batches them (Meta webhooks reference): entries of one
 * WABA share an entry, and `messages` changes of one phone number share a value, with their
 * contacts, messages and statuses arrays concatenated.
 */
export function batch(...envelopes: WebhookEnvelope[]): WebhookEnvelope {
  const merged: WebhookEnvelope = { object: 'whatsapp_business_account', entry: [] };
  for (const entry of envelopes.flatMap((e) => e.entry)) {
    let target = merged.entry.find((e) => e.id === entry.id);
    if (!target) merged.entry.push((target = { id: entry.id, changes: [] }));
    for (const change of entry.changes) {
      const same = target.changes.find((c) => c.field === 'messages' && change.field === 'messages' && phoneNumberIdOf(c) === phoneNumberIdOf(change));
      if (!same) target.changes.push(structuredClone(change));
      else for (const key of ['contacts', 'messages', 'statuses'] as const) appendArray(same.value, key, change.value[key]);
    }
  }
  return merged;
}

function envelope(business: SimulatedBusiness, value: Record<string, unknown>): WebhookEnvelope {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: business.wabaId,
        changes: [
          {
            value: { messaging_product: 'whatsapp', metadata: { display_phone_number: business.displayPhoneNumber, phone_number_id: business.phoneNumberId }, ...value },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

function contentOf(input: InboundContent): Record<string, unknown> {
  switch (input.type) {
    case 'text':
      return { type: 'text', text: { body: input.body } };
    case 'image':
    case 'video':
      return { type: input.type, [input.type]: { ...mediaObject(input.media), ...(input.caption !== undefined ? { caption: input.caption } : {}) } };
    case 'audio':
      return { type: 'audio', audio: { ...mediaObject(input.media), voice: input.voice ?? false } };
    case 'document':
      return { type: 'document', document: { ...mediaObject(input.media), ...optional({ caption: input.caption, filename: input.filename }) } };
    case 'sticker':
      return { type: 'sticker', sticker: { ...mediaObject(input.media), animated: input.animated ?? false } };
    case 'location':
      return { type: 'location', location: { latitude: input.latitude, longitude: input.longitude, ...optional({ name: input.placeName, address: input.address, url: input.url }) } };
    case 'contacts':
      return { type: 'contacts', contacts: input.contacts };
    case 'button_reply':
      return { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: input.replyId, title: input.title } } };
    case 'list_reply':
      return { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: input.replyId, title: input.title, ...optional({ description: input.description }) } } };
    case 'nfm_reply':
      return { type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: { response_json: input.responseJson, body: input.body ?? 'Sent', name: 'flow' } } };
    case 'button':
      return { type: 'button', button: { text: input.text, payload: input.payload ?? input.text } };
    case 'reaction':
      return { type: 'reaction', reaction: { message_id: input.messageId, ...optional({ emoji: input.emoji }) } };
    case 'unsupported':
      return {
        type: 'unsupported',
        unsupported: { type: input.unsupportedType },
        errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }],
      };
    case 'system':
      return {
        type: 'system',
        system: { body: input.body, type: input.systemType, ...optional({ wa_id: input.newWaId, user_id: input.newUserId, previous_user_id: input.previousUserId }) },
      };
    case 'edit':
      return { type: 'edit', edit: { original_message_id: input.originalMessageId, message: { type: 'text', text: { body: input.body } } } };
    case 'revoke':
      return { type: 'revoke', revoke: { original_message_id: input.originalMessageId } };
  }
}

function contextOf(context: SenderInput['context']): Record<string, unknown> {
  if (!context) return {};
  return { context: optional({ from: context.from, id: context.id, forwarded: context.forwarded, frequently_forwarded: context.frequentlyForwarded }) };
}

function mediaObject(media: MediaInput): Record<string, unknown> {
  return { mime_type: media.mimeType, ...optional({ sha256: media.sha256 }), id: media.id };
}

function optional(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function unixSeconds(time: number | Date | undefined): string {
  const ms = time === undefined ? Date.now() : time instanceof Date ? time.getTime() : time * 1000;
  return String(Math.floor(ms / 1000));
}

const phoneNumberIdOf = (change: WebhookChange): unknown => (change.value.metadata as { phone_number_id?: unknown } | undefined)?.phone_number_id;

function appendArray(value: Record<string, unknown>, key: string, items: unknown): void {
  if (!Array.isArray(items)) return;
  const existing = Array.isArray(value[key]) ? (value[key] as unknown[]) : [];
  // One contacts[] entry per person, however many of their messages the delivery carries.
  const seen = new Set(existing.map((item) => JSON.stringify(item)));
  const added = key === 'contacts' ? items.filter((item) => !seen.has(JSON.stringify(item))) : items;
  value[key] = [...existing, ...structuredClone(added)];
}
