import { z } from 'zod';

/**
 * POST /api/conversations/:id/imports: a WhatsApp "Export chat" file (.txt, or the .zip WhatsApp
 * makes with media) as the raw request body, into the archive as messages of that conversation
 * with their original times. The file's name and how to read it travel in the query, because the
 * body is the file itself. Importing the same file again adds nothing.
 */
export const importQuerySchema = z.object({
  /** The file's name as the user chose it; recorded with the import. */
  fileName: z.string().min(1).max(255),
  /** IANA zone the export was written in (its times carry none); default the firm's (WA_BRIDGE_TIMEZONE). */
  timeZone: z.string().min(1).max(64).optional(),
  /** Authors in the export who are the firm, comma-separated; needed unless the chat has two people and one is the client by name. */
  firmAuthors: z.string().max(2000).optional(),
});
export type ImportQuery = z.input<typeof importQuerySchema>;

export const importMediaTypes = ['text/plain', 'application/zip'] as const;

/** The largest export the API takes; larger ones go through `wa-bridge import` on the server. */
export const maxImportBytes = 200 * 1024 * 1024;

export const importSummarySchema = z.object({
  importId: z.number().int(),
  conversationId: z.number().int(),
  messages: z.number().int(),
  added: z.number().int(),
  duplicates: z.number().int(),
  mediaLinked: z.number().int(),
  mediaMissing: z.number().int(),
  firstMessageAt: z.string().nullable(),
  lastMessageAt: z.string().nullable(),
  timeZone: z.string(),
  dateOrder: z.string(),
  sourceSha256: z.string(),
  /**
   * What the person importing should be told, one line each: today the messages whose time does
   * not exist in the zone (clocks went forward over it) or exists twice (they went back), naming
   * the line and how the time was read; a count and the first few when there are many.
   */
  warnings: z.array(z.string()),
});
export type ImportSummary = z.infer<typeof importSummarySchema>;
