import { z } from 'zod';
import { channelSchema, isoTime, offeredTemplateSchema, roleSchema } from './common.js';

export const meSchema = z.object({
  user: z.object({
    /** Entra ID object id (oid). */
    id: z.string(),
    /** Sign-in name (preferred_username or upn). */
    upn: z.string(),
    name: z.string().nullable(),
  }),
  roles: z.array(roleSchema),
  /** True when the bridge runs as the local demo: the user is a made-up demo identity. */
  sandbox: z.boolean(),
  can: z.object({ reply: z.boolean(), link: z.boolean(), manageMatters: z.boolean(), admin: z.boolean(), seeAll: z.boolean(), holds: z.boolean() }),
});
export type Me = z.infer<typeof meSchema>;

/** Sandbox only: a demo sign-in, signed by a key that exists only in this bridge process. */
export const sandboxTokenSchema = z.object({
  accessToken: z.string(),
  expiresAt: isoTime,
  user: z.object({ upn: z.string(), name: z.string() }),
  notice: z.string(),
});
export type SandboxToken = z.infer<typeof sandboxTokenSchema>;

export const channelStatusSchema = z.object({
  kind: channelSchema,
  /**
   * connected: working; pairing: waiting for a phone to link; disconnected: down; standby: another
   * bridge instance runs it; configured: nothing to report.
   */
  state: z.enum(['connected', 'pairing', 'disconnected', 'standby', 'configured']),
  detail: z.string().nullable(),
  /** whatsapp-web: the QR code text to render (scan in WhatsApp > Linked devices) while pairing. */
  qr: z.string().nullable(),
  /** whatsapp-web: the 8-character pairing code, when linking by phone number. */
  pairingCode: z.string().nullable(),
  /** cloud-api: webhook deliveries counted since start, by outcome. */
  webhooks: z.record(z.string(), z.number()).nullable(),
});
export type ChannelStatus = z.infer<typeof channelStatusSchema>;

export const jobSchema = z.object({
  id: z.number().int(),
  kind: z.string(),
  state: z.enum(['pending', 'running', 'needs_attention']),
  conversationId: z.number().int().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type JobItem = z.infer<typeof jobSchema>;

/**
 * A repeating task of the archive as the admin view shows it: when it last did its work (null:
 * never yet), how often it should, when a run still going started (backups; null when none is),
 * and whether it is later than that by more than the bridge's margin
 * (WA_BRIDGE_ARCHIVE_OVERDUE_HOURS, two by default). A run going holds that off for one interval.
 */
export const archiveTaskSchema = z.object({
  task: z.enum(['checkpoint', 'backup', 'retention']),
  lastRunAt: isoTime.nullable(),
  everyHours: z.number(),
  runningSince: isoTime.nullable(),
  overdue: z.boolean(),
});
export type ArchiveTaskStatus = z.infer<typeof archiveTaskSchema>;

export const adminStatusSchema = z.object({
  sandbox: z.boolean(),
  channels: z.array(channelStatusSchema),
  /** Age of the oldest pending job, in seconds (0 when none). */
  relayLagSeconds: z.number(),
  jobs: z.object({ pending: z.number().int(), running: z.number().int(), needsAttention: z.number().int() }),
  /** Who may reply by email (addresses and @domains). */
  allowedSenders: z.array(z.string()),
  templates: z.array(offeredTemplateSchema),
  /** The archive's scheduled tasks: signed checkpoints always, backups when WA_BRIDGE_BACKUP_DIR is set, retention when daily. */
  archive: z.array(archiveTaskSchema),
  /** Stored documents waiting to be read for search; null when documents are not read (WA_BRIDGE_SEARCH_DOCUMENTS=off). */
  documentsWaiting: z.number().int().nullable(),
});
export type AdminStatus = z.infer<typeof adminStatusSchema>;

export const jobListSchema = z.object({ items: z.array(jobSchema) });

/**
 * A document a client sent whose text could not be read for search (a scan, a damaged file, one
 * too large): found by its name and caption alone. The exceptions an eDiscovery review must know.
 */
export const unreadDocumentSchema = z.object({
  attachmentId: z.number().int(),
  conversationId: z.number().int(),
  chatId: z.string(),
  clientName: z.string().nullable(),
  messageId: z.number().int(),
  fileName: z.string().nullable(),
  sentAt: isoTime,
  reason: z.string(),
});
export type UnreadDocument = z.infer<typeof unreadDocumentSchema>;
export const unreadDocumentListSchema = z.object({ items: z.array(unreadDocumentSchema) });
export type UnreadDocumentList = z.infer<typeof unreadDocumentListSchema>;
export type JobList = z.infer<typeof jobListSchema>;
