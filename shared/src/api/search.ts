import { z } from 'zod';
import { channelSchema, directionSchema, isoTime, pageQuery } from './common.js';

/**
 * Full-text search over message text (bodies, captions, file names) of the conversations the
 * user may see. Words are matched by prefix; several words must all occur.
 */
export const searchQuery = pageQuery.extend({
  q: z.string().trim().min(1).max(200),
  matterId: z.coerce.number().int().positive().optional(),
  conversationId: z.coerce.number().int().positive().optional(),
  /** Part of the client's name or number. */
  client: z.string().trim().min(1).max(100).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  direction: directionSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type SearchQuery = z.input<typeof searchQuery>;

/** A piece of the snippet; `match` pieces are the words that matched (render them highlighted). */
export const snippetPartSchema = z.object({ text: z.string(), match: z.boolean() });

export const searchHitSchema = z.object({
  conversationId: z.number().int(),
  chatId: z.string(),
  channel: channelSchema,
  clientName: z.string().nullable(),
  messageId: z.number().int(),
  waMessageId: z.string(),
  direction: directionSchema,
  sentAt: isoTime,
  snippet: z.array(snippetPartSchema),
  /** References of matters linked at the time of the message. */
  matters: z.array(z.string()),
  /** File names of the message's documents whose text is searched with it: the words may be in one of them. */
  documents: z.array(z.string()),
});
export type SearchHit = z.infer<typeof searchHitSchema>;

export const searchResponseSchema = z.object({ items: z.array(searchHitSchema), nextCursor: z.string().nullable() });
export type SearchResponse = z.infer<typeof searchResponseSchema>;
