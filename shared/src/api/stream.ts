import { z } from 'zod';
import { isoTime } from './common.js';
import { conversationSummarySchema, deliveryStatusSchema, messageItemSchema, pendingReplySchema } from './conversations.js';

/**
 * Server-sent events on GET /api/stream. Each event's SSE `event:` field equals its `type`, and
 * `data:` is the JSON below. Only conversations the user may see are reported; with
 * `?conversation=<id>` only that one. A comment line (`: ping`) every 25 s keeps proxies open.
 */
export const streamEventSchema = z.discriminatedUnion('type', [
  /** The first event: the stream is live. */
  z.object({ type: z.literal('ready'), at: isoTime }),
  /** A new stored WhatsApp event (inbound, or a reply once sent). */
  z.object({ type: z.literal('message'), conversationId: z.number().int(), message: messageItemSchema }),
  /** A sent message's delivery status moved forward. */
  z.object({ type: z.literal('delivery'), conversationId: z.number().int(), waMessageId: z.string(), status: deliveryStatusSchema, at: isoTime }),
  /** A reply was accepted (queued) or failed before it became a WhatsApp message. */
  z.object({ type: z.literal('reply'), conversationId: z.number().int(), reply: pendingReplySchema }),
  /** Links, assignee or window changed: the new summary. */
  z.object({ type: z.literal('conversation'), conversation: conversationSummarySchema }),
  /**
   * What keeps the conversation changed (a legal hold covering it placed or released, a matter of
   * its closed): on the stream of that one conversation; its detail has the new retention.
   */
  z.object({ type: z.literal('retention'), conversationId: z.number().int() }),
  /**
   * What keeps a matter's records changed (the matter closed, a legal hold on it placed or
   * released): to those who see the matter, on the stream of all conversations; the matter and its
   * retention have the news.
   */
  z.object({ type: z.literal('matter'), matterId: z.number().int() }),
  /**
   * A legal hold was placed or released (over the API or with the CLI): to compliance officers, on
   * the stream of all conversations, so their lists of holds and of what is due for deletion follow.
   */
  z.object({ type: z.literal('holds'), at: isoTime }),
]);
export type StreamEvent = z.infer<typeof streamEventSchema>;
export type StreamEventType = StreamEvent['type'];
export const streamEventTypes: StreamEventType[] = ['ready', 'message', 'delivery', 'reply', 'conversation', 'retention', 'matter', 'holds'];
