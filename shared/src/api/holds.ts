import { z } from 'zod';
import { clientSchema, idParam, isoTime } from './common.js';

/**
 * A legal hold: while it is in force nothing of its matter (every conversation ever linked to
 * it) or of its one conversation is deleted, whatever the retention period says. Released holds
 * stay on record. Compliance officers place, release and list them.
 */
export const legalHoldSchema = z.object({
  id: z.number().int(),
  /** Exactly one of matter and conversation is set; null also when the conversation was deleted. */
  matter: z.object({ id: z.number().int(), reference: z.string() }).nullable(),
  conversation: z.object({ id: z.number().int(), chatId: z.string(), client: clientSchema }).nullable(),
  reason: z.string(),
  placedAt: isoTime,
  placedBy: z.string(),
  releasedAt: isoTime.nullable(),
  releasedBy: z.string().nullable(),
  /** Why it was released, as the releaser gave it; null while in force. */
  releaseReason: z.string().nullable(),
});
export type LegalHold = z.infer<typeof legalHoldSchema>;

/**
 * How long the archive keeps one conversation. `basis` says what sets it:
 * - `hold`: legal holds in force (on it, or on a matter it was ever linked to) keep it until released;
 * - `matter_open`: `matter` is still open, so nothing runs yet;
 * - `matter_closed`: the period of `matter`, the one ending last of the closed matters it was linked to;
 * - `last_activity`: never linked to a matter, the default period from its newest message.
 * `keptUntil` is null for the first two; a time already past means the next retention run deletes it.
 */
export const conversationRetentionSchema = z.object({
  basis: z.enum(['hold', 'matter_open', 'matter_closed', 'last_activity']),
  keptUntil: isoTime.nullable(),
  /** The matter's reference, for matter_open and matter_closed. */
  matter: z.string().nullable(),
  /** The period's years, for matter_closed and last_activity. */
  years: z.number().int().nullable(),
  /** The matter type whose period applies (matter_closed), or null for the default. */
  matterType: z.string().nullable(),
  /** Every hold in force on it or on one of its matters, oldest first. */
  holds: z.array(legalHoldSchema),
});
export type ConversationRetention = z.infer<typeof conversationRetentionSchema>;

const reason = z.string().trim().min(1, 'say why, e.g. the proceedings or the regulator request').max(1000);

/** Places a hold on one matter or one conversation. */
export const placeHoldSchema = z
  .object({ matterId: idParam.optional(), conversationId: idParam.optional(), reason })
  .refine((body) => (body.matterId === undefined) !== (body.conversationId === undefined), { message: 'give exactly one of matterId and conversationId', path: ['matterId'] });
export type PlaceHold = z.input<typeof placeHoldSchema>;

export const releaseHoldSchema = z.object({ reason });
export type ReleaseHold = z.input<typeof releaseHoldSchema>;

export const listHoldsQuery = z.object({
  /** Also the released ones. */
  all: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
});
export type ListHoldsQuery = z.input<typeof listHoldsQuery>;

/**
 * How long a matter's WhatsApp records are kept: `years` after the matter closes (by its type,
 * from the firm's retention policy), so `keptUntil` is null while it is open. A conversation
 * linked to several matters is kept for the longest of their periods; a hold in force on the
 * matter keeps everything until it is released.
 */
export const matterRetentionSchema = z.object({
  years: z.number().int(),
  /** What gave the years: the matter type as the matter names it, or "default" when the policy has no entry for it. */
  rule: z.string(),
  keptUntil: isoTime.nullable(),
  /** Holds in force on the matter itself. */
  holds: z.array(legalHoldSchema),
});
export type MatterRetention = z.infer<typeof matterRetentionSchema>;

export const dueQuery = z.object({
  /** How far ahead to look, in days (the next run deletes what is already due). */
  days: z.coerce.number().int().min(0).max(3650).default(90),
});
export type DueQuery = z.input<typeof dueQuery>;

/**
 * A conversation whose retention runs out within the days asked: the daily run (or
 * `wa-bridge retention run`) deletes it from `deleteFrom` on, unless a hold is placed before.
 */
export const dueConversationSchema = z.object({
  conversation: z.object({ id: z.number().int(), chatId: z.string(), client: clientSchema }),
  /** References of every matter it was ever linked to. */
  matters: z.array(z.string()),
  deleteFrom: isoTime,
  /** The rule that ends its retention, e.g. "Conveyancing: 15 years after matter X closed". */
  rule: z.string(),
});
export type DueConversation = z.infer<typeof dueConversationSchema>;

/** A deletion certificate: what retention or an erasure request deleted, when and why (no personal data). */
export const deletionCertificateSchema = z.object({
  id: z.number().int(),
  chatId: z.string(),
  /** "retention" or "erasure". */
  reason: z.string(),
  /** The rule or request it was deleted under, from the certificate. */
  rule: z.string().nullable(),
  deletedAt: isoTime,
  deletedBy: z.string().nullable(),
  events: z.number().int(),
  /** SHA-256 of the certificate's bytes as stored (what GET …/certificates/:id returns). */
  sha256: z.string(),
});
export type DeletionCertificate = z.infer<typeof deletionCertificateSchema>;
