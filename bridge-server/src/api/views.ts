import type { Client, ConversationDetail, ConversationSummary, DeliveryStatus, MessageItem, PendingReply, SharedContactCard, SharedLocation, WindowState } from '@wa-bridge/shared/api/conversations';
import type { LegalHold } from '@wa-bridge/shared/api/holds';
import type { Matter, MatterLink } from '@wa-bridge/shared/api/matters';
import type { OutboundCommand } from '../core/commands.js';
import type { Content } from '../core/events.js';
import type { AttachmentRecord, ConversationRecord, EventRecord } from '../core/records.js';
import { contactName, contactOrganisation } from '../core/render/contacts.js';
import { renderContent, type ContentOf } from '../core/render/content.js';
import { googleMapsUrl } from '../core/render/location.js';
import { mediaFileName } from '../core/render/media.js';
import type { ApprovedTemplate } from '../core/templates.js';
import { SERVICE_WINDOW_MS } from '../flows/reply.js';
import type { PendingReplyRow } from '../store/conversation-views.js';
import type { LinkRow, MatterRow } from '../store/matters.js';
import type { LegalHold as HoldRow } from '../store/retention.js';

/** Store records to the shared contract's shapes. Pure: the routes load, these convert. */
export const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** The Cloud API's 24-hour rule (flows/reply.ts enforces it); other channels have no window. */
export function toWindowState(channel: ConversationRecord['channel'], lastInboundAt: number | null, now: number, templates: ApprovedTemplate[]): WindowState {
  if (channel !== 'cloud-api') return { state: 'not_applicable', closesAt: null, lastInboundAt: isoOrNull(lastInboundAt), templates };
  const closesAt = lastInboundAt === null ? null : lastInboundAt + SERVICE_WINDOW_MS;
  return { state: closesAt !== null && closesAt > now ? 'open' : 'closed', closesAt: isoOrNull(closesAt), lastInboundAt: isoOrNull(lastInboundAt), templates };
}

export const toLink = (link: LinkRow): MatterLink => ({
  id: link.id,
  conversationId: link.conversationId,
  matterId: link.matterId,
  reference: link.reference,
  title: link.title,
  linkedAt: iso(link.linkedAt),
  linkedBy: link.linkedBy,
  unlinkedAt: isoOrNull(link.unlinkedAt),
  unlinkedBy: link.unlinkedBy,
});

/** A WhatsApp id is the client's number when it looks like one (a business-scoped user id does not). */
export const toClient = (name: string | null, waId: string | null): Client => ({ name, number: waId && /^\d{6,15}$/.test(waId) ? `+${waId}` : null });

export const toLegalHold = (hold: HoldRow): LegalHold => ({
  id: hold.id,
  matter: hold.matterId !== null && hold.matterReference !== null ? { id: hold.matterId, reference: hold.matterReference } : null,
  conversation: hold.conversationId !== null && hold.chatId !== null ? { id: hold.conversationId, chatId: hold.chatId, client: toClient(hold.clientName, hold.clientWaId) } : null,
  reason: hold.reason,
  placedAt: iso(hold.placedAt),
  placedBy: hold.placedBy,
  releasedAt: isoOrNull(hold.releasedAt),
  releasedBy: hold.releasedBy,
  releaseReason: hold.releaseReason,
});

export const toMatter = (matter: MatterRow): Matter => ({
  ...matter,
  createdAt: iso(matter.createdAt),
  closedAt: isoOrNull(matter.closedAt),
});

export interface SummaryFacts {
  links: LinkRow[];
  assignee: string | null;
  window: WindowState;
  lastActivityAt: number;
}

export function toSummary(c: ConversationRecord, facts: SummaryFacts): ConversationSummary {
  return {
    id: c.id,
    chatId: c.chatToken,
    channel: c.channel,
    client: toClient(c.clientName, c.clientWaId),
    businessNumber: c.businessDisplayNumber,
    subject: c.subject,
    matters: facts.links.filter((l) => l.unlinkedAt === null).map(toLink),
    assignee: facts.assignee,
    window: facts.window,
    lastActivityAt: iso(facts.lastActivityAt),
    openedAt: iso(c.openedAt),
  };
}

export function toDetail(c: ConversationRecord, facts: SummaryFacts, can: ConversationDetail['can'], retention: ConversationDetail['retention']): ConversationDetail {
  return { ...toSummary(c, facts), links: facts.links.map(toLink), can, retention };
}

const mediaTypes = new Set(['image', 'video', 'audio', 'document', 'sticker']);

/** The words a bubble shows: the body, a caption, or a one-line rendering of other content. */
export function contentText(content: Content): string | null {
  if (content.type === 'text') return content.body;
  if ('media' in content) return content.media.caption ?? null;
  return renderContent(content, { media: [] }).text.trim() || null;
}

/** An optional field as sent, null when absent or empty (the mail leaves those out as well). */
const given = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

/** A shared location for its card; the map link is the mirrored mail's. */
export function toSharedLocation(content: ContentOf<'location'>): SharedLocation {
  return {
    latitude: content.latitude,
    longitude: content.longitude,
    name: given(content.name),
    address: given(content.address),
    url: given(content.url),
    mapUrl: googleMapsUrl(content.latitude, content.longitude),
  };
}

/** Shared contacts for their cards: named and with the organisation as the mail gives them. */
export function toSharedContacts(content: ContentOf<'contacts'>): SharedContactCard[] {
  return content.contacts.map((contact) => ({
    name: contactName(contact),
    organisation: contactOrganisation(contact),
    phones: contact.phones.filter((p) => p.phone !== '').map((p) => ({ phone: p.phone, type: given(p.type) })),
    emails: contact.emails.filter((e) => e.email !== '').map((e) => ({ email: e.email, type: given(e.type) })),
    urls: contact.urls.map((u) => u.url).filter((url) => url !== ''),
  }));
}

export interface MessageContext {
  conversation: ConversationRecord;
  attachments: Map<number, AttachmentRecord[]>;
  quoted: Map<string, EventRecord>;
  edited: Set<string>;
  deleted: Set<string>;
  delivery: Map<string, { status: string; at: number }>;
}

export function toMessageItem(event: EventRecord, ctx: MessageContext): MessageItem {
  const e = event.event;
  const content = 'content' in e ? e.content : undefined;
  const quotedId = e.kind === 'message' ? e.quoted?.waMessageId : undefined;
  const quoted = quotedId ? ctx.quoted.get(quotedId) : undefined;
  const quotedContent = quoted && 'content' in quoted.event ? quoted.event.content : undefined;
  const delivery = event.direction === 'outbound' ? ctx.delivery.get(event.waMessageId) : undefined;
  return {
    id: event.id,
    seq: event.seq,
    waMessageId: event.waMessageId,
    kind: event.kind,
    direction: event.direction,
    sender:
      event.direction === 'inbound'
        ? { name: e.author?.name ?? e.client.name ?? ctx.conversation.clientName, side: 'client' }
        : { name: e.author?.name ?? null, side: 'firm' },
    sentAt: iso(event.timestamp),
    contentType: content?.type ?? null,
    text: content ? contentText(content) : null,
    location: content?.type === 'location' ? toSharedLocation(content) : null,
    contacts: content?.type === 'contacts' ? toSharedContacts(content) : null,
    attachments: (ctx.attachments.get(event.id) ?? []).map((a) => ({
      id: a.id,
      fileName: content && mediaTypes.has(content.type) && 'media' in content ? mediaFileName(content.type, a, content.media.fileName) : a.fileName,
      mimeType: a.mimeType,
      size: a.size,
      mediaType: content?.type ?? 'document',
      downloadUrl: a.sha256 ? `/api/attachments/${a.id}` : null,
    })),
    quoted: quotedId
      ? {
          waMessageId: quotedId,
          text: quotedContent ? renderContent(quotedContent, { media: [] }).summary : null,
          senderName: quoted ? (quoted.direction === 'inbound' ? (quoted.event.client.name ?? ctx.conversation.clientName) : (quoted.event.author?.name ?? null)) : null,
        }
      : null,
    targetWaMessageId: e.kind === 'message' ? null : e.targetWaMessageId,
    emoji: e.kind === 'reaction' ? e.emoji : null,
    edited: e.kind === 'message' && ctx.edited.has(event.waMessageId),
    deleted: e.kind === 'message' && ctx.deleted.has(event.waMessageId),
    delivery: delivery ? { status: delivery.status as DeliveryStatus, at: iso(delivery.at) } : null,
    commandId: event.direction === 'outbound' ? replyIdOf(e.raw) : null,
  };
}

export function toPendingReply(row: PendingReplyRow): PendingReply {
  const command = JSON.parse(row.commandJson) as OutboundCommand;
  return {
    commandId: row.id,
    state: row.state === 'failed' ? 'failed' : 'queued',
    text: command.text ?? null,
    fileNames: command.files.map((f) => f.fileName),
    template: command.template ? { name: command.template.name, language: command.template.language, parameters: command.template.parameters } : null,
    author: command.author.name || command.author.address,
    createdAt: iso(row.createdAt),
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
  };
}

/** The reply a sent message came from: flows/send.ts archives it in the event's raw record. */
function replyIdOf(raw: unknown): number | null {
  const id = typeof raw === 'object' && raw !== null ? (raw as { replyId?: unknown }).replyId : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
}
