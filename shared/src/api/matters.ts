import { z } from 'zod';
import { idParam, isoTime } from './common.js';

/** Someone on a matter, named by their Entra ID sign-in name (UPN). */
export const matterMemberSchema = z.object({
  upn: z.string(),
  name: z.string().nullable(),
});
export type MatterMember = z.infer<typeof matterMemberSchema>;

export const matterStateSchema = z.enum(['open', 'closed']);

export const matterSchema = z.object({
  id: z.number().int(),
  /** The firm's own matter number, e.g. "SMI-2026-0042"; unique. */
  reference: z.string(),
  title: z.string(),
  /** Free text such as "Conveyancing" or "Family"; null when not given. */
  matterType: z.string().nullable(),
  state: matterStateSchema,
  members: z.array(matterMemberSchema),
  createdAt: isoTime,
  createdBy: z.string(),
  closedAt: isoTime.nullable(),
  /** Conversations linked now (links that have not ended). */
  linkedConversations: z.number().int(),
});
export type Matter = z.infer<typeof matterSchema>;

const upn = z.string().trim().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'expected a sign-in name such as tom@firm.example');

export const createMatterSchema = z.object({
  reference: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits, dots, dashes, slashes and underscores only'),
  title: z.string().trim().min(1).max(300),
  matterType: z.string().trim().min(1).max(100).optional(),
  /** Sign-in names (UPN) or email addresses; the creator is always added. */
  members: z.array(upn).max(50).default([]),
});
export type CreateMatter = z.input<typeof createMatterSchema>;

/** Adds one member: resolved through Microsoft Graph when configured, else taken as the UPN. */
export const addMemberSchema = z.object({ email: upn });
export type AddMember = z.infer<typeof addMemberSchema>;

export const listMattersQuery = z.object({
  state: z.enum(['open', 'closed', 'all']).default('open'),
  /** Matches the reference or title. */
  q: z.string().trim().max(200).optional(),
});
export type ListMattersQuery = z.input<typeof listMattersQuery>;

/**
 * A period during which a conversation belonged to a matter. A conversation may belong to several
 * matters over time; ending a link keeps it in the history.
 */
export const matterLinkSchema = z.object({
  id: z.number().int(),
  conversationId: z.number().int(),
  matterId: z.number().int(),
  reference: z.string(),
  title: z.string(),
  linkedAt: isoTime,
  linkedBy: z.string(),
  unlinkedAt: isoTime.nullable(),
  unlinkedBy: z.string().nullable(),
});
export type MatterLink = z.infer<typeof matterLinkSchema>;

export const createLinkSchema = z.object({ matterId: idParam });
export type CreateLink = z.infer<typeof createLinkSchema>;
