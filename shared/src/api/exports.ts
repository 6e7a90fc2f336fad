import { z } from 'zod';

/**
 * POST /api/exports: an evidence bundle (zip) of some conversations, or of every conversation a
 * matter ever had, optionally limited to a time range. The answer is the zip itself, with its
 * SHA-256 in the X-Bundle-SHA256 header; `wa-bridge verify-bundle` checks it offline.
 */
export const exportRequest = z
  .object({
    conversations: z.array(z.string().regex(/^[a-z2-7]{26}$/, 'a chat id as in X-WhatsApp-Chat-Id')).min(1).max(500).optional(),
    matter: z.string().min(1).max(100).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** IANA zone for the transcript's times; default Europe/London. */
    timeZone: z.string().min(1).max(64).default('Europe/London'),
  })
  .refine((value) => (value.conversations === undefined) !== (value.matter === undefined), { message: 'give either conversations or a matter', path: ['conversations'] });
export type ExportRequest = z.input<typeof exportRequest>;

export const bundleShaHeader = 'X-Bundle-SHA256';
