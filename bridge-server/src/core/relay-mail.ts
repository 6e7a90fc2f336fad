import { closeRightToLeft, toHeaderText, truncateText } from './header-text.js';
import type { MailAddress, OutgoingMail } from './mail.js';
import { mailHeaders } from '@wa-bridge/shared/headers';
import { formatPhone, toE164 } from '@wa-bridge/shared/phone';
import type { AttachmentRecord, ConversationRecord, EventKey, EventRecord } from './records.js';
import type { RenderContext } from './render/content.js';
import { renderCover } from './render/cover.js';
import { renderDeletion } from './render/deletion.js';
import { renderEdit } from './render/edit.js';
import { layoutMail, type EventBody } from './render/layout.js';
import { renderMessage } from './render/message.js';
import { renderReaction } from './render/reaction.js';
import { chatGuid, eventMailId, references, rootMailId, threadIndex } from './threading.js';
import { formatZonedTime } from './zoned-time.js';

/**
 * One relayed mail, built from stored facts only: the same input
 * always gives the same OutgoingMail, so a retried relay job composes byte-identical MIME.
 */

export interface RelayMailInput {
  tenant: string;
  /** The bridge's own mail domain: the right-hand side of every Message-ID. */
  mailDomain: string;
  /** The firm address the mail goes To. */
  mailbox: string;
  /** The chat's reply address `wa+<token>@<domain>`, computed by the caller. */
  replyAddress: string;
  conversation: ConversationRecord;
  /** null: the "conversation opened" cover mail, which carries the root Message-ID. */
  event: EventRecord | null;
  /** Up to 20 events before this one, oldest first; empty for the first event. */
  previous: EventKey[];
  /**
   * The Message-IDs of `previous` (recordMailId), when the caller has them already; then
   * `previous` is not read. The composer thread is sent these instead of the events' keys.
   */
  previousMailIds?: string[];
  /** The quoted message, or the target of an edit, deletion or reaction, when stored. */
  related?: EventRecord;
  attachments: Array<{ record: AttachmentRecord; content: Buffer }>;
  /** Hex hash-chain link of the event; '' for the cover mail, which then has no X-Archive-Hash. */
  archiveHash: string;
  /** The firm's zone (IANA name): the mail's body shows its times as wall times there, with the offset. */
  timeZone: string;
}

const nameLimit = 64;

/** The Message-ID (without brackets) of the mail for a stored event. */
export function recordMailId(tenant: string, record: EventKey, domain: string): string {
  return eventMailId(tenant, record.channel, record.waMessageId, record.kind, record.versionKey, domain);
}

interface Client {
  name: string | null;
  number: string | null;
}

function describeClient(conversation: ConversationRecord, event: EventRecord | null): Client {
  const rawName = conversation.clientName ?? event?.event.client.name ?? '';
  const name = closeRightToLeft(truncateText(toHeaderText(rawName), nameLimit));
  const waId = conversation.clientWaId ?? event?.event.client.waId ?? null;
  const userId = conversation.clientUserId ?? event?.event.client.userId ?? null;
  const number = (waId === null ? null : formatPhone(waId)) ?? (userId === null ? null : truncateText(toHeaderText(userId), nameLimit));
  return { name: name === '' ? null : name, number: number === '' ? null : number };
}

function clientLabel(client: Client): string {
  if (client.name !== null && client.number !== null) return `${client.name} (${client.number})`;
  return client.name ?? client.number ?? 'WhatsApp client';
}

const firmNumber = (conversation: ConversationRecord): string =>
  (conversation.businessDisplayNumber === null ? null : formatPhone(conversation.businessDisplayNumber)) ?? toHeaderText(conversation.businessId);

function authorName(record: EventRecord): string | null {
  const name = truncateText(toHeaderText(record.event.author?.name ?? ''), nameLimit);
  return name === '' ? null : name;
}

/** From's display name: the client "(WhatsApp)" inbound, "<author> via WhatsApp" for the firm's side. */
function senderDisplayName(record: EventRecord, client: Client): string {
  if (record.direction === 'outbound') return `${authorName(record) ?? 'Firm'} via WhatsApp`;
  return `${client.name ?? client.number ?? 'Client'} (WhatsApp)`;
}

/** X-WhatsApp-From: +E.164 of the sender when known, else the client's user id. */
function senderId(record: EventRecord, conversation: ConversationRecord): string {
  if (record.direction === 'outbound') return toE164(conversation.businessDisplayNumber ?? '') ?? conversation.businessId;
  const client = record.event.client;
  return toE164(client.waId ?? conversation.clientWaId ?? '') ?? client.userId ?? conversation.clientUserId ?? '';
}

/** Who wrote the event, for a person: the client with their number, or the firm's author and number. */
export function eventSender(record: EventRecord, conversation: ConversationRecord): string {
  if (record.direction === 'inbound') return clientLabel(describeClient(conversation, record));
  return `${authorName(record) ?? 'Firm'} (firm number ${firmNumber(conversation)})`;
}

/**
 * The one switch over event kinds; each kind renders in its own file under render/. Mails and
 * evidence transcripts both show events through it.
 */
export function renderEventBody(record: EventRecord, attachments: RelayMailInput['attachments'], related: EventRecord | undefined, timeZone: string): EventBody {
  const context: RenderContext = { media: attachments };
  const actor = record.direction === 'inbound' ? 'The client' : 'The firm';
  const event = record.event;
  switch (event.kind) {
    case 'message':
      return renderMessage(event, context, related, timeZone);
    case 'edit':
      return renderEdit(event, actor, context, related, timeZone);
    case 'deletion':
      return renderDeletion(actor, related, timeZone);
    case 'reaction':
      return renderReaction(event, actor, related, timeZone);
    default: {
      const unexpected: never = event;
      throw new TypeError(`no renderer for event kind ${String((unexpected as { kind?: unknown }).kind)}`);
    }
  }
}

const header = (key: string, value: string): { key: string; value: string } => ({ key, value: toHeaderText(value) });

/** Headers every mail of the chat shares, Outlook's conversation pair first (MS-OXCMAIL 2.2.3.2.7). */
function threadHeaders(subject: string, index: string): Array<{ key: string; value: string }> {
  return [header('Thread-Topic', subject), header('Thread-Index', index)];
}

/**
 * RFC 3834 5: Auto-Submitted tells responders not to answer. Exchange ignores it for Out of
 * Office but honours X-Auto-Response-Suppress (MS-OXCMAIL 2.2.3.2.14); without both, a
 * solicitor's OOF reply would reach the Reply-To address and so the client on WhatsApp.
 */
const autoHeaders = [header('Auto-Submitted', 'auto-generated'), header('X-Auto-Response-Suppress', 'All')];

function eventHeaders(record: EventRecord, input: RelayMailInput, messageId: string): Array<{ key: string; value: string }> {
  const { conversation } = input;
  const event = record.event;
  const guid = chatGuid(conversation.chatToken);
  const headers = [
    ...threadHeaders(conversation.subject, threadIndex(guid, conversation.openedAt, record.timestamp, messageId)),
    header(mailHeaders.chatId, conversation.chatToken),
    header(mailHeaders.messageId, record.waMessageId),
    header(mailHeaders.direction, record.direction),
    header(mailHeaders.from, senderId(record, conversation)),
    header(mailHeaders.event, record.kind),
  ];
  if (event.kind === 'message' || event.kind === 'edit') headers.push(header(mailHeaders.type, event.content.type));
  if (event.kind !== 'message') headers.push(header(mailHeaders.targetMessageId, event.targetWaMessageId));
  if (input.archiveHash !== '') headers.push(header(mailHeaders.archiveHash, `sha256:${input.archiveHash.toLowerCase()}`));
  return [...headers, ...autoHeaders];
}

function addresses(input: RelayMailInput, name: string): { from: MailAddress; to: MailAddress[]; replyTo: MailAddress } {
  return {
    from: { name: toHeaderText(name), address: input.replyAddress },
    to: [{ address: input.mailbox }],
    replyTo: { address: input.replyAddress },
  };
}

function buildEventMail(input: RelayMailInput, record: EventRecord): OutgoingMail {
  const { conversation } = input;
  const root = rootMailId(conversation.chatToken, input.mailDomain);
  const messageId = recordMailId(input.tenant, record, input.mailDomain);
  const previousIds = input.previousMailIds ?? input.previous.map((r) => recordMailId(input.tenant, r, input.mailDomain));
  const client = describeClient(conversation, record);
  const body = renderEventBody(record, input.attachments, input.related, input.timeZone);
  const sender = eventSender(record, conversation);
  const { text, html } = layoutMail({
    subject: conversation.subject,
    rows: [
      ['From', `${sender}, on WhatsApp`],
      ['Time', formatZonedTime(record.timestamp, input.timeZone)],
      ['Event', body.label],
      ['Direction', record.direction === 'inbound' ? 'client to firm' : 'firm to client'],
    ],
    body,
  });
  return {
    messageId,
    date: new Date(record.timestamp),
    ...addresses(input, senderDisplayName(record, client)),
    subject: toHeaderText(conversation.subject),
    headers: eventHeaders(record, input, messageId),
    inReplyTo: previousIds.at(-1) ?? root,
    references: references(root, previousIds),
    text,
    html,
    attachments: body.attachments,
  };
}

function buildCoverMail(input: RelayMailInput): OutgoingMail {
  const { conversation } = input;
  const client = describeClient(conversation, null);
  const firm = firmNumber(conversation);
  const body = renderCover(clientLabel(client), firm);
  const { text, html } = layoutMail({
    subject: conversation.subject,
    rows: [
      ['Client', clientLabel(client)],
      ['Firm number', firm],
      ['Opened', formatZonedTime(conversation.openedAt, input.timeZone)],
    ],
    body,
  });
  const headers = [
    ...threadHeaders(conversation.subject, threadIndex(chatGuid(conversation.chatToken), conversation.openedAt, null)),
    header(mailHeaders.chatId, conversation.chatToken),
    header(mailHeaders.event, 'conversation-opened'),
    ...(input.archiveHash === '' ? [] : [header(mailHeaders.archiveHash, `sha256:${input.archiveHash.toLowerCase()}`)]),
    ...autoHeaders,
  ];
  return {
    messageId: rootMailId(conversation.chatToken, input.mailDomain),
    date: new Date(conversation.openedAt),
    ...addresses(input, `${client.name ?? client.number ?? 'Client'} (WhatsApp)`),
    subject: toHeaderText(conversation.subject),
    headers,
    references: [],
    text,
    html,
    attachments: [],
  };
}

/** The mail for one stored event, or the chat's cover mail when `input.event` is null. */
export function buildRelayMail(input: RelayMailInput): OutgoingMail {
  return input.event === null ? buildCoverMail(input) : buildEventMail(input, input.event);
}
