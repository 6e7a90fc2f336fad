import { z } from 'zod';

/** Times on the API are ISO 8601 in UTC with milliseconds, as Date#toISOString writes them. */
export const isoTime = z.iso.datetime();

export { roles, roleSchema, type Role } from '../roles.js';

export const channelSchema = z.enum(['cloud-api', 'whatsapp-web', 'chat-export']);
export type Channel = z.infer<typeof channelSchema>;

/** A conversation's client as WhatsApp named them. */
export const clientSchema = z.object({
  name: z.string().nullable(),
  /** E.164 with a leading +, when WhatsApp gave a number. */
  number: z.string().nullable(),
});
export type Client = z.infer<typeof clientSchema>;

export const directionSchema = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof directionSchema>;

/** Positive integer ids arrive as path or query text; the API parses them with this. */
export const idParam = z.coerce.number().int().positive();

export const templateSchema = z.object({ name: z.string(), language: z.string() });
export type Template = z.infer<typeof templateSchema>;

/**
 * An approved template the bridge offers. `parameterLabels` names its body variables ({{1}},
 * {{2}}, …) in order: a template reply carries exactly one non-empty parameter per label.
 */
export const offeredTemplateSchema = templateSchema.extend({ parameterLabels: z.array(z.string()) });
export type OfferedTemplate = z.infer<typeof offeredTemplateSchema>;

/**
 * A page of a longer list. `nextCursor` is opaque: pass it back as `cursor` for the next page;
 * null when there is nothing further.
 */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
export type Page<T> = { items: T[]; nextCursor: string | null };

export const pageQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/**
 * An RFC 9457 problem document: every error the API returns. `code` is stable and
 * machine-readable; `detail` is written for a person. `errors` lists each invalid field.
 * A closed 24-hour window (code `window_closed`) adds `templates` and `closesAt`.
 */
export const problemSchema = z.object({
  type: z.string(),
  status: z.number().int(),
  code: z.string(),
  title: z.string(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  templates: z.array(offeredTemplateSchema).optional(),
  closesAt: isoTime.nullable().optional(),
});
export type Problem = z.infer<typeof problemSchema>;
