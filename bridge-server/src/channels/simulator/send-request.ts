import { z } from 'zod';

/**
 * The request shape of `POST /{version}/{phone-number-id}/messages` as documented (Meta Messages reference;
 * Meta "Messages" reference): enough to catch what a client gets wrong, loose about everything
 * else, because the simulator is a test double and not a second implementation of WhatsApp.
 */
const mediaObject = z
  .looseObject({ id: z.string().min(1).optional(), link: z.url().optional(), caption: z.string().max(1024).optional(), filename: z.string().max(240).optional() })
  .refine((media) => (media.id === undefined) !== (media.link === undefined), 'a media object needs exactly one of "id" or "link"');

const typeObjects = {
  text: z.looseObject({ body: z.string().min(1).max(4096), preview_url: z.boolean().optional() }),
  image: mediaObject,
  video: mediaObject,
  audio: mediaObject,
  document: mediaObject,
  sticker: mediaObject,
  location: z.looseObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }),
  contacts: z.array(z.looseObject({ name: z.looseObject({ formatted_name: z.string().min(1) }) })).min(1),
  interactive: z.looseObject({ type: z.string().min(1), action: z.looseObject({}) }),
  template: z.looseObject({ name: z.string().min(1).max(512), language: z.looseObject({ code: z.string().min(2) }), components: z.array(z.looseObject({ type: z.string() })).optional() }),
  reaction: z.looseObject({ message_id: z.string().min(1), emoji: z.string() }),
} as const;
type SendType = keyof typeof typeObjects;
const isSendType = (type: string): type is SendType => Object.hasOwn(typeObjects, type);

const messageRequest = z.looseObject({
  messaging_product: z.literal('whatsapp'),
  recipient_type: z.enum(['individual', 'group']).optional(),
  to: z.string().min(1).max(256),
  /** Meta defaults a missing type to text. */
  type: z.string().default('text'),
  context: z.looseObject({ message_id: z.string().min(1) }).optional(),
  biz_opaque_callback_data: z.string().max(512).optional(),
});

/** Mark as read (+ optional typing indicator), sent to the same endpoint. */
const readReceipt = z.looseObject({ messaging_product: z.literal('whatsapp'), status: z.literal('read'), message_id: z.string().min(1) });

export type SendCheck = { kind: 'message'; to: string; type: SendType } | { kind: 'read'; messageId: string } | { kind: 'invalid'; details: string };

/** Classifies a send body; `details` lists every problem with its path, like Meta's error_data. */
export function checkSendRequest(body: unknown): SendCheck {
  if (typeof body === 'object' && body !== null && 'status' in body) {
    const read = readReceipt.safeParse(body);
    return read.success ? { kind: 'read', messageId: read.data.message_id } : invalid(read.error.issues);
  }
  const base = messageRequest.safeParse(body);
  if (!base.success) return invalid(base.error.issues);
  const { type, to } = base.data;
  if (!isSendType(type)) return { kind: 'invalid', details: `type: "${type}" is not a message type this endpoint sends` };
  const object = typeObjects[type].safeParse(base.data[type]);
  if (!object.success) return invalid(object.error.issues, type);
  return { kind: 'message', to, type };
}

function invalid(issues: readonly z.core.$ZodIssue[], root?: string): SendCheck {
  const where = (path: readonly PropertyKey[]) => [root, ...path.map(String)].filter((part) => part !== undefined).join('.') || '(body)';
  return { kind: 'invalid', details: issues.map((issue) => `${where(issue.path)}: ${issue.message}`).join('; ') };
}
