import { z } from 'zod';

/**
 * A data subject's request for their data (UK GDPR art. 15): the person, by their WhatsApp number
 * in international form (+44 7700 900123) or by the business-scoped user id the Cloud API gives.
 */
export const subjectSchema = z
  .object({ phone: z.string().trim().min(1).max(40).optional(), user: z.string().trim().min(1).max(128).optional() })
  .refine((value) => (value.phone === undefined) !== (value.user === undefined), { message: 'give either a phone number or a WhatsApp user id', path: ['phone'] });

/**
 * POST /api/exports: an evidence bundle (zip) of some conversations, of every conversation a
 * matter ever had, or (compliance officers only) of every conversation with one person, for a
 * subject access request; optionally limited to a time range. The answer is the zip itself, with its
 * SHA-256 in the X-Bundle-SHA256 header; `wa-bridge verify-bundle` checks it offline.
 */
export const exportRequest = z
  .object({
    conversations: z.array(z.string().regex(/^[a-z2-7]{26}$/, 'a chat id as in X-WhatsApp-Chat-Id')).min(1).max(500).optional(),
    matter: z.string().min(1).max(100).optional(),
    subject: subjectSchema.optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** IANA zone for the transcript's times; default Europe/London. */
    timeZone: z.string().min(1).max(64).default('Europe/London'),
  })
  .refine((value) => [value.conversations, value.matter, value.subject].filter((given) => given !== undefined).length === 1, {
    message: 'give either conversations, a matter or a subject',
    path: ['conversations'],
  });
export type ExportRequest = z.input<typeof exportRequest>;

export const bundleShaHeader = 'X-Bundle-SHA256';
