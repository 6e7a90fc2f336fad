import { z } from 'zod';

/**
 * OutboundCommand: what a solicitor asks to send to a client (from an email reply, the add-in or
 * the Teams tab). Stored and queued like inbound events; the conversation's channel sends it.
 */
export const outboundFileSchema = z.object({
  fileName: z.string().min(1).max(255),
  mimeType: z.string().min(1).max(255),
  /** The bytes, already stored in the blob store under this hash. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});
export type OutboundFile = z.infer<typeof outboundFileSchema>;

export const outboundCommandSchema = z.object({
  conversationId: z.number().int().positive(),
  /** Text body (WhatsApp's limit is 4 096 characters; longer text is refused before sending). */
  text: z.string().max(4096).optional(),
  files: z.array(outboundFileSchema).max(10).default([]),
  /** The WhatsApp message this one quotes (shown as a reply bubble). */
  quotedWaMessageId: z.string().max(256).optional(),
  template: z
    .object({ name: z.string().min(1).max(512), language: z.string().min(2).max(15), parameters: z.array(z.string().max(1024)).max(20).default([]) })
    .optional(),
  author: z.object({ name: z.string().max(256), address: z.string().max(320) }),
  /** Where the command came from, for the audit trail and for answering failures. */
  source: z.object({ kind: z.enum(['email', 'api']), ref: z.string().max(998) }),
});
export type OutboundCommand = z.infer<typeof outboundCommandSchema>;
