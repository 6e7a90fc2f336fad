import { z } from 'zod';
import { channelSchema, clientSchema, directionSchema, isoTime, offeredTemplateSchema, pageQuery, templateSchema } from './common.js';
import { conversationRetentionSchema } from './holds.js';
import { matterLinkSchema } from './matters.js';

export { clientSchema, type Client } from './common.js';

/**
 * WhatsApp's 24-hour customer-service window (Cloud API): free-form replies only within 24 hours
 * of the client's last message; outside it only an approved template. `not_applicable` for
 * channels without the rule (whatsapp-web).
 */
export const windowStateSchema = z.object({
  state: z.enum(['open', 'closed', 'not_applicable']),
  /** When the window closes (open) or closed (closed); null if the client never wrote. */
  closesAt: isoTime.nullable(),
  lastInboundAt: isoTime.nullable(),
  /** Templates that may be sent when the window is closed, with the labels of their parameters. */
  templates: z.array(offeredTemplateSchema),
});
export type WindowState = z.infer<typeof windowStateSchema>;

export const conversationSummarySchema = z.object({
  id: z.number().int(),
  /** The value of the mirrored mails' X-WhatsApp-Chat-Id header. */
  chatId: z.string(),
  channel: channelSchema,
  client: clientSchema,
  /** The firm's WhatsApp number the chat runs on. */
  businessNumber: z.string().nullable(),
  subject: z.string(),
  /** Links in force now (no end). */
  matters: z.array(matterLinkSchema),
  /** Sign-in name of the person an unlinked conversation is assigned to. */
  assignee: z.string().nullable(),
  window: windowStateSchema,
  lastActivityAt: isoTime,
  openedAt: isoTime,
});
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

export const conversationDetailSchema = conversationSummarySchema.extend({
  /** Every link, past and present, newest first. */
  links: z.array(matterLinkSchema),
  /** What the signed-in user may do here. */
  can: z.object({ reply: z.boolean(), link: z.boolean(), assign: z.boolean() }),
  /** How long the archive keeps it, and the legal holds that keep it now. */
  retention: conversationRetentionSchema,
});
export type ConversationDetail = z.infer<typeof conversationDetailSchema>;

export const listConversationsQuery = pageQuery.extend({
  matterId: z.coerce.number().int().positive().optional(),
  /** Only conversations with no link in force. */
  unlinked: z.enum(['true', 'false']).optional(),
});
export type ListConversationsQuery = z.input<typeof listConversationsQuery>;

/** The person a conversation is assigned to, by sign-in name; null to un-assign. */
export const assignSchema = z.object({ assignee: z.string().trim().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'expected a sign-in name such as tom@firm.example').nullable() });
export type Assign = z.infer<typeof assignSchema>;

export const attachmentSchema = z.object({
  id: z.number().int(),
  fileName: z.string().nullable(),
  mimeType: z.string(),
  size: z.number().int().nullable(),
  /** image, video, audio, document or sticker. */
  mediaType: z.string(),
  /** Relative API path (needs the bearer token); null until the bytes are fetched. */
  downloadUrl: z.string().nullable(),
});
export type Attachment = z.infer<typeof attachmentSchema>;

export const deliveryStatusSchema = z.enum(['queued', 'sent', 'delivered', 'read', 'failed']);
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

/**
 * A location the client shared, as sent. `mapUrl` is the Google Maps link the bridge builds from
 * the coordinates (the one the mirrored mail links too); `url` is a link the client attached,
 * for showing as text only, never as a link.
 */
export const sharedLocationSchema = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  name: z.string().nullable(),
  address: z.string().nullable(),
  url: z.string().nullable(),
  mapUrl: z.url({ protocol: /^https$/, hostname: /^www\.google\.com$/ }),
});
export type SharedLocation = z.infer<typeof sharedLocationSchema>;

/** A contact card the client shared. `urls` are the client's and, like a location's `url`, text only. */
export const sharedContactSchema = z.object({
  name: z.string(),
  /** Title, company and department, as far as given. */
  organisation: z.string().nullable(),
  phones: z.array(z.object({ phone: z.string(), type: z.string().nullable() })),
  emails: z.array(z.object({ email: z.string(), type: z.string().nullable() })),
  urls: z.array(z.string()),
});
export type SharedContactCard = z.infer<typeof sharedContactSchema>;

/**
 * One bubble of the conversation view: a message, or an edit, deletion or reaction that refers
 * to one (`targetWaMessageId`). A message that was later edited or deleted says so itself too.
 */
export const messageItemSchema = z.object({
  id: z.number().int(),
  seq: z.number().int(),
  waMessageId: z.string(),
  kind: z.enum(['message', 'edit', 'deletion', 'reaction']),
  direction: directionSchema,
  sender: z.object({ name: z.string().nullable(), side: z.enum(['client', 'firm']) }),
  sentAt: isoTime,
  /** text, image, video, audio, document, sticker, location, contacts, interactive, button, system, unsupported. */
  contentType: z.string().nullable(),
  /** Plain text to show: the body, a caption, or a one-line rendering of other content. */
  text: z.string().nullable(),
  attachments: z.array(attachmentSchema),
  /** Location messages only: what the bubble shows as a card instead of `text`. */
  location: sharedLocationSchema.nullable(),
  /** Contacts messages only: one card per contact, shown instead of `text`. */
  contacts: z.array(sharedContactSchema).nullable(),
  quoted: z.object({ waMessageId: z.string(), text: z.string().nullable(), senderName: z.string().nullable() }).nullable(),
  targetWaMessageId: z.string().nullable(),
  /** Reactions only; null when the reaction was removed. */
  emoji: z.string().nullable(),
  edited: z.boolean(),
  deleted: z.boolean(),
  /** Outbound only. */
  delivery: z.object({ status: deliveryStatusSchema, at: isoTime }).nullable(),
  /** Outbound messages sent for a reply: its commandId, so a pending reply can be replaced by its messages. */
  commandId: z.number().int().nullable().optional(),
});
export type MessageItem = z.infer<typeof messageItemSchema>;

/** A reply accepted but not yet a WhatsApp message (queued), or one that failed before sending. */
export const pendingReplySchema = z.object({
  commandId: z.number().int(),
  state: z.enum(['queued', 'failed']),
  text: z.string().nullable(),
  fileNames: z.array(z.string()),
  /** A template reply: which template, and its parameters, so that it can be sent again as it was. */
  template: templateSchema.extend({ parameters: z.array(z.string()) }).nullable(),
  author: z.string(),
  createdAt: isoTime,
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type PendingReply = z.infer<typeof pendingReplySchema>;

/**
 * Messages newest page first: `items` are in chronological order within the page, and
 * `nextCursor` fetches the page of older items. `pending` is filled on the newest page only.
 */
export const messagePageSchema = z.object({
  items: z.array(messageItemSchema),
  nextCursor: z.string().nullable(),
  pending: z.array(pendingReplySchema),
});
export type MessagePage = z.infer<typeof messagePageSchema>;

export const listMessagesQuery = pageQuery;
export type ListMessagesQuery = z.input<typeof listMessagesQuery>;

/** A file sent with a reply, base64 in the JSON body (the request body may be up to 25 MiB). */
export const replyFileSchema = z.object({
  fileName: z.string().min(1).max(255),
  mimeType: z.string().min(1).max(255),
  contentBase64: z.string().min(1).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64'),
});
export type ReplyFile = z.infer<typeof replyFileSchema>;

/**
 * A reply to the client. Text and files, or a template (the only thing WhatsApp accepts outside
 * the 24-hour window); or `resendOf`, a reply of this conversation that failed, sent again as it
 * was (text, files, quote, template and its parameters), with nothing else given. `clientRef`
 * makes retries safe: the same ref from the same user is accepted once.
 */
export const replyRequestSchema = z
  .object({
    text: z.string().max(4096).optional(),
    files: z.array(replyFileSchema).max(10).default([]),
    template: z.object({ name: z.string().min(1).max(512), language: z.string().min(2).max(15), parameters: z.array(z.string().max(1024)).max(20).default([]) }).optional(),
    quotedWaMessageId: z.string().max(256).optional(),
    resendOf: z.number().int().positive().optional(),
    clientRef: z.string().min(8).max(100).regex(/^[A-Za-z0-9_-]+$/).optional(),
  })
  .refine((reply) => reply.resendOf === undefined || (reply.text === undefined && reply.files.length === 0 && reply.template === undefined && reply.quotedWaMessageId === undefined), {
    message: 'a reply sent again goes as it was: give nothing else with resendOf',
    path: ['resendOf'],
  });
export type ReplyRequest = z.input<typeof replyRequestSchema>;

export const replyAcceptedSchema = z.object({
  commandId: z.number().int(),
  /** False when this clientRef had already been accepted. */
  created: z.boolean(),
  state: z.enum(['queued', 'sent', 'failed']),
});
export type ReplyAccepted = z.infer<typeof replyAcceptedSchema>;
