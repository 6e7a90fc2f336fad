import { z } from 'zod';

/**
 * InboundEvent: everything a channel adapter reports, normalized to one typed value. Channels
 * parse their own payloads at the edge and hand these to flows/ingest.ts; nothing downstream
 * reads a channel's raw payload except to archive it.
 */
export const channelKinds = ['cloud-api', 'whatsapp-web', 'chat-export'] as const;
export const channelKindSchema = z.enum(channelKinds);
export type ChannelKind = z.infer<typeof channelKindSchema>;

export const directionSchema = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof directionSchema>;

export const mediaTypes = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaType = (typeof mediaTypes)[number];

/** A media item as announced by WhatsApp; the bytes are fetched later by a media.fetch job. */
export const mediaRefSchema = z.object({
  /** The channel's id for downloading (Cloud API media id). */
  waMediaId: z.string().min(1).max(256),
  mimeType: z.string().min(1).max(255),
  /** SHA-256 announced by WhatsApp (hex or base64 as sent); checked against the bytes. */
  sha256: z.string().max(128).optional(),
  fileName: z.string().max(1024).optional(),
  caption: z.string().max(65536).optional(),
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
  /** Set when the bytes are already in the blob store (a file the firm sent): nothing to download. */
  storedSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  storedSize: z.number().int().nonnegative().optional(),
});
export type MediaRef = z.infer<typeof mediaRefSchema>;

const contactSchema = z.object({
  formattedName: z.string().max(1024),
  firstName: z.string().max(1024).optional(),
  lastName: z.string().max(1024).optional(),
  phones: z.array(z.object({ phone: z.string().max(64), waId: z.string().max(64).optional(), type: z.string().max(64).optional() })).default([]),
  emails: z.array(z.object({ email: z.string().max(512), type: z.string().max(64).optional() })).default([]),
  urls: z.array(z.object({ url: z.string().max(2048), type: z.string().max(64).optional() })).default([]),
  org: z.object({ company: z.string().max(512).optional(), department: z.string().max(512).optional(), title: z.string().max(512).optional() }).optional(),
  addresses: z
    .array(
      z.object({
        street: z.string().max(1024).optional(),
        city: z.string().max(512).optional(),
        state: z.string().max(512).optional(),
        zip: z.string().max(64).optional(),
        country: z.string().max(512).optional(),
        type: z.string().max(64).optional(),
      }),
    )
    .default([]),
  birthday: z.string().max(32).optional(),
});
export type SharedContact = z.infer<typeof contactSchema>;

export const contentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), body: z.string().max(65536) }),
  z.object({ type: z.enum(mediaTypes), media: mediaRefSchema }),
  z.object({
    type: z.literal('location'),
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
    name: z.string().max(1024).optional(),
    address: z.string().max(2048).optional(),
    url: z.string().max(2048).optional(),
  }),
  z.object({ type: z.literal('contacts'), contacts: z.array(contactSchema).min(1).max(257) }),
  z.object({
    type: z.literal('interactive'),
    /** button_reply, list_reply, nfm_reply or a later kind, kept as sent. */
    replyType: z.string().max(64),
    replyId: z.string().max(1024).optional(),
    title: z.string().max(4096).optional(),
    description: z.string().max(4096).optional(),
    /** Flow answers (nfm_reply) as the JSON text WhatsApp sent. */
    responseJson: z.string().max(65536).optional(),
  }),
  z.object({ type: z.literal('button'), text: z.string().max(4096), payload: z.string().max(4096).optional() }),
  /** Content WhatsApp did not deliver or we do not know: mirrored as "unsupported content". */
  z.object({ type: z.literal('unsupported'), originalType: z.string().max(128), note: z.string().max(4096).optional() }),
  z.object({
    type: z.literal('system'),
    body: z.string().max(65536),
    systemType: z.string().max(128).optional(),
    newWaId: z.string().max(64).optional(),
    previousUserId: z.string().max(256).optional(),
  }),
]);
export type Content = z.infer<typeof contentSchema>;
export type ContentType = Content['type'];

/** The client side of the chat as WhatsApp identified it in this event. */
export const clientIdentitySchema = z
  .object({
    waId: z.string().max(64).optional(),
    userId: z.string().max(256).optional(),
    name: z.string().max(1024).optional(),
    username: z.string().max(256).optional(),
  })
  .refine((c) => c.waId !== undefined || c.userId !== undefined, 'a client needs a phone number (wa_id) or a user_id');
export type ClientIdentity = z.infer<typeof clientIdentitySchema>;

const baseShape = {
  channel: channelKindSchema,
  /** The firm's WhatsApp number: its channel id (Cloud API phone_number_id) and display form. */
  business: z.object({ id: z.string().min(1).max(64), displayNumber: z.string().max(64).optional() }),
  client: clientIdentitySchema,
  /** The event's own WhatsApp id (wamid for the Cloud API). */
  waMessageId: z.string().min(1).max(256),
  /**
   * Distinguishes several events that share one WhatsApp id (an edit on a channel that reuses the
   * id carries its edit time). Empty when the id alone is unique.
   */
  versionKey: z.string().max(64).default(''),
  /** WhatsApp's own timestamp, milliseconds since the epoch. */
  timestamp: z.number().int().nonnegative(),
  direction: directionSchema,
  /** For group chats and firm-side phones: who wrote it, when not the client. */
  author: z.object({ id: z.string().max(256), name: z.string().max(1024).optional() }).optional(),
  /** The raw object as received, archived verbatim. */
  raw: z.unknown(),
};

export const inboundEventSchema = z.discriminatedUnion('kind', [
  z.object({
    ...baseShape,
    kind: z.literal('message'),
    content: contentSchema,
    quoted: z.object({ waMessageId: z.string().max(256), from: z.string().max(256).optional() }).optional(),
    forwarded: z.boolean().optional(),
    frequentlyForwarded: z.boolean().optional(),
  }),
  z.object({ ...baseShape, kind: z.literal('edit'), targetWaMessageId: z.string().max(256), content: contentSchema }),
  z.object({ ...baseShape, kind: z.literal('deletion'), targetWaMessageId: z.string().max(256) }),
  z.object({
    ...baseShape,
    kind: z.literal('reaction'),
    targetWaMessageId: z.string().max(256),
    /** null when the reaction was removed. */
    emoji: z.string().max(64).nullable(),
  }),
]);
export type InboundEvent = z.infer<typeof inboundEventSchema>;
export type EventKind = InboundEvent['kind'];

/** A delivery status for a message the firm sent; stored, never mirrored as its own mail. */
export const statusEventSchema = z.object({
  channel: channelKindSchema,
  business: z.object({ id: z.string().min(1).max(64), displayNumber: z.string().max(64).optional() }),
  waMessageId: z.string().min(1).max(256),
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  timestamp: z.number().int().nonnegative(),
  recipientId: z.string().max(256).optional(),
  callbackData: z.string().max(512).optional(),
  errors: z.array(z.object({ code: z.number().int(), title: z.string().max(1024).optional(), details: z.string().max(4096).optional() })).default([]),
  raw: z.unknown(),
});
export type StatusEvent = z.infer<typeof statusEventSchema>;

/** What one webhook delivery (or one library callback) yields after normalization. */
export interface NormalizedBatch {
  events: InboundEvent[];
  statuses: StatusEvent[];
}
