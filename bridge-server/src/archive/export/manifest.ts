import { z } from 'zod';

/**
 * manifest.json of an evidence bundle: what was exported, by whom and when, the chain state of
 * each conversation, the newest signed checkpoint, and every other file of the zip with its
 * SHA-256 and size. manifest.sig holds the Ed25519 signature of the exact manifest.json bytes by
 * the archive's checkpoint key, whose public half is in the manifest.
 */
export const bundleFormat = 'wa-bridge-evidence-bundle/1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const manifestSchema = z.object({
  format: z.literal(bundleFormat),
  exportedAt: z.string(),
  exportedBy: z.string(),
  timeZone: z.string(),
  selection: z.object({ conversation: z.string().optional(), matter: z.string().optional(), from: z.string().optional(), to: z.string().optional() }),
  conversations: z.array(
    z.object({
      chatId: z.string(),
      chatKey: z.string(),
      subject: z.string(),
      events: z.number().int().nonnegative(),
      firstSeq: z.number().int().nullable(),
      lastSeq: z.number().int().nullable(),
      /** The conversation's chain head in the archive when the bundle was made. */
      chainHead: z.string(),
      eventsFile: z.string(),
      /** A matter's bundle: when the conversation belonged to the matter (ISO times, null for an open end); only its events from then are in the bundle. */
      linked: z.array(z.object({ from: z.string().nullable(), to: z.string().nullable() })).optional(),
      /** Chat-export files imported into the conversation: the source of its events whose channel is chat-export. */
      imports: z.array(z.object({ file: z.string(), sha256: z.string(), timeZone: z.string(), importedBy: z.string(), importedAt: z.string(), added: z.number().int().nonnegative() })).optional(),
    }),
  ),
  checkpoint: z
    .object({ id: z.number().int(), createdAt: z.string(), reason: z.string(), headsSha256: sha256Hex, previousSha256: z.string(), publicKey: z.string(), signature: z.string() })
    .nullable(),
  publicKey: z.string(),
  files: z.array(z.object({ path: z.string(), sha256: sha256Hex, size: z.number().int().nonnegative() })),
});
export type BundleManifest = z.infer<typeof manifestSchema>;

/** One line of a conversation's events.ndjson: the archived record and the link it continues from. */
export const bundleEventSchema = z.object({
  seq: z.number().int().positive(),
  previous: z.string(),
  chainHash: z.string(),
  channel: z.string(),
  waMessageId: z.string(),
  kind: z.string(),
  versionKey: z.string(),
  direction: z.string(),
  timestamp: z.number(),
  receivedAt: z.number(),
  event: z.unknown(),
});
export type BundleEvent = z.infer<typeof bundleEventSchema>;

export const manifestPath = 'manifest.json';
export const signaturePath = 'manifest.sig';
