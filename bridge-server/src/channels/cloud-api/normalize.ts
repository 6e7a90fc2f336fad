import type { z } from 'zod';
import { inboundEventSchema, statusEventSchema, type ClientIdentity, type NormalizedBatch, type StatusEvent } from '../../core/events.js';
import { BadInputError } from '../../core/errors.js';
import { nonEmpty, toContent } from './normalize-content.js';
import { formatPath, type CloudContact, type CloudMessage, type CloudStatus, type CloudValue, type CloudWebhookPayload } from './payload.js';

/**
 * Cloud API webhook -> NormalizedBatch. Pure: no I/O, no clock, no logging.
 * Every event it returns has passed `inboundEventSchema` / `statusEventSchema`; an item that cannot
 * become a valid event throws BadInputError `bad_payload` naming where it sits in the payload, so
 * the webhook answers 400 and nothing of the delivery is stored.
 */
export function normalizeCloudWebhook(payload: CloudWebhookPayload): NormalizedBatch {
  const batch: NormalizedBatch = { events: [], statuses: [] };
  payload.entry.forEach((entry, e) => {
    entry.changes.forEach((change, c) => {
      // Other fields (template status, username decisions, ...) are not chat events.
      if (change.field !== 'messages' || change.value === undefined) return;
      const at = `entry[${e}].changes[${c}].value`;
      const value = change.value;
      value.messages?.forEach((message, m) => {
        batch.events.push(validated(inboundEventSchema, toInboundEvent(message, value), `${at}.messages[${m}]`));
      });
      value.statuses?.forEach((status, s) => {
        const event = toStatusEvent(status, value);
        if (event) batch.statuses.push(validated(statusEventSchema, event, `${at}.statuses[${s}]`));
      });
    });
  });
  return batch;
}

type InboundCandidate = z.input<typeof inboundEventSchema>;
type StatusCandidate = z.input<typeof statusEventSchema>;

function toInboundEvent(message: CloudMessage, value: CloudValue): InboundCandidate {
  const { client, contact } = identifyClient(message, value.contacts ?? []);
  const base = {
    channel: 'cloud-api' as const,
    business: businessOf(value),
    client,
    waMessageId: message.id,
    versionKey: '',
    timestamp: Number(message.timestamp) * 1000,
    direction: 'inbound' as const,
    raw: { message, contact, metadata: value.metadata },
  };
  // Meta's reaction reference shows the add and the removal of a reaction under one message id,
  // and Message-IDs key reactions, edits and deletions by time too, so their version is the time.
  const versioned = { ...base, versionKey: message.timestamp };
  switch (message.type) {
    case 'reaction': {
      const reaction = required(message.reaction, 'reaction');
      // Removal is the same webhook with `emoji` omitted (Meta reaction reference).
      return { ...versioned, kind: 'reaction', targetWaMessageId: reaction.message_id, emoji: nonEmpty(reaction.emoji) ?? null };
    }
    case 'edit': {
      const edit = required(message.edit, 'edit');
      return { ...versioned, kind: 'edit', targetWaMessageId: edit.original_message_id, content: toContent(edit.message) };
    }
    case 'revoke':
      return { ...versioned, kind: 'deletion', targetWaMessageId: required(message.revoke, 'revoke').original_message_id };
    default:
      return { ...base, kind: 'message', content: toContent(message), ...contextOf(message.context) };
  }
}

/**
 * The client as WhatsApp named them: the contacts[] entry for this sender (wa_id == from, or
 * user_id == from_user_id, else the only entry), completed from the message itself. System
 * messages carry no contacts array (Meta system reference), so `from` alone must do there.
 */
function identifyClient(message: CloudMessage, contacts: CloudContact[]): { client: ClientIdentity; contact: CloudContact | undefined } {
  const from = nonEmpty(message.from);
  const fromUserId = nonEmpty(message.from_user_id);
  const matched =
    contacts.find((c) => (from !== undefined && nonEmpty(c.wa_id) === from) || (fromUserId !== undefined && nonEmpty(c.user_id) === fromUserId)) ??
    (contacts.length === 1 ? contacts[0] : undefined);
  const client: ClientIdentity = {
    waId: nonEmpty(matched?.wa_id) ?? from,
    userId: nonEmpty(matched?.user_id) ?? fromUserId,
    name: nonEmpty(matched?.profile?.name),
    username: nonEmpty(matched?.profile?.username),
  };
  return { client, contact: matched };
}

function contextOf(context: CloudMessage['context']): Pick<InboundCandidate & { kind: 'message' }, 'quoted' | 'forwarded' | 'frequentlyForwarded'> {
  if (!context) return {};
  const quotedId = nonEmpty(context.id);
  return {
    // A forwarded message has a context without an id: forwarded, but quoting nothing.
    quoted: quotedId === undefined ? undefined : { waMessageId: quotedId, from: nonEmpty(context.from) },
    forwarded: context.forwarded,
    frequentlyForwarded: context.frequently_forwarded,
  };
}

const documentedStatuses: ReadonlySet<string> = new Set<StatusEvent['status']>(['sent', 'delivered', 'read', 'failed']);
const isDocumentedStatus = (status: string): status is StatusEvent['status'] => documentedStatuses.has(status);

/**
 * `deleted` and `warning` belonged to the retired On-Premises API (Meta status webhook reference); a status we do
 * not know says nothing about delivery, so it is skipped rather than failing the whole delivery.
 */
function toStatusEvent(status: CloudStatus, value: CloudValue): StatusCandidate | undefined {
  if (!isDocumentedStatus(status.status)) return undefined;
  return {
    channel: 'cloud-api',
    business: businessOf(value),
    waMessageId: status.id,
    status: status.status,
    timestamp: Number(status.timestamp) * 1000,
    // recipient_id is "" when the firm wrote to a BSUID it has no number for (BSUID doc).
    recipientId: nonEmpty(status.recipient_id) ?? nonEmpty(status.recipient_user_id),
    callbackData: nonEmpty(status.biz_opaque_callback_data),
    errors: (status.errors ?? []).map((error) => ({ code: error.code, title: error.title, details: error.error_data?.details ?? error.message })),
    raw: status,
  };
}

const businessOf = (value: CloudValue) => ({ id: value.metadata.phone_number_id, displayNumber: nonEmpty(value.metadata.display_phone_number) });

function required<T>(object: T | undefined, name: string): T {
  // payload.ts already demands the type object; this only narrows the type.
  if (object === undefined) throw new BadInputError('bad_payload', `A "${name}" message arrived without its "${name}" object.`);
  return object;
}

function validated<T>(schema: z.ZodType<T>, candidate: unknown, at: string): T {
  const parsed = schema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  throw new BadInputError(
    'bad_payload',
    `The webhook item at ${at} cannot be turned into an event; see errors.`,
    parsed.error.issues.map((issue) => ({ path: at, message: `${formatPath(issue.path)}: ${issue.message}` })),
  );
}
