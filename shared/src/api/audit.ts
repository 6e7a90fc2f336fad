import { z } from 'zod';
import { isoTime } from './common.js';

/**
 * The audit trail (ComplianceOfficer only): who did what to which conversation or matter, when and
 * from where. Oldest first from `from` (default: the last 24 hours); `nextCursor` reads on.
 * `format=csv` (see auditFormat) answers every matching entry as one CSV file instead of a page.
 */
export const auditQuery = z.object({
  from: isoTime.optional(),
  to: isoTime.optional(),
  /** Sign-in name, `cli:<user>` or `system`. */
  actor: z.string().trim().min(1).max(320).optional(),
  /** e.g. reply, matter.link, search, conversation.read, export. */
  action: z.string().trim().min(1).max(64).optional(),
  /** e.g. conversation:<chat id>, matter:<reference>. */
  target: z.string().trim().min(1).max(400).optional(),
  cursor: z.string().regex(/^\d{1,16}$/).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditQuery = z.input<typeof auditQuery>;

/**
 * GET /api/audit?format=: json (default, a page) or csv (every entry the filter matches, in the
 * columns of `wa-bridge audit --format csv`; cursor and limit do not apply).
 */
export const auditFormat = z.object({ format: z.enum(['json', 'csv']).default('json') });

export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: isoTime,
  actor: z.string(),
  actorName: z.string().nullable(),
  roles: z.array(z.string()),
  action: z.string(),
  target: z.string().nullable(),
  source: z.string(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  /** The link of the entry before it ('' for the first): with it and the fields above, anyone can recompute entrySha256. */
  prevSha256: z.string(),
  /** This entry's link in the trail's hash chain (hex SHA-256). */
  entrySha256: z.string(),
});
export type AuditEntryItem = z.infer<typeof auditEntrySchema>;

export const auditPageSchema = z.object({ items: z.array(auditEntrySchema), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof auditPageSchema>;
