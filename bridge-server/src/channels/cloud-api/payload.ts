import { z } from 'zod';
import { BadInputError, type FieldIssue } from '../../core/errors.js';

/**
 * Zod schemas of the Cloud API `messages` webhook (Meta webhooks reference; Meta "messages webhook
 * reference"). Every object is loose: Meta adds fields without notice, and an unknown field must
 * never turn a delivery into a 400 that Meta then retries for days. What normalize.ts relies on
 * (ids, digit timestamps, the type object of a known type) is checked strictly, with paths.
 */

/** Meta sends unix seconds as a string of digits (keep it a string). */
const unixSeconds = z.string().regex(/^\d{1,12}$/, 'expected unix seconds as a string of digits');
/**
 * Phone numbers (wa_id) are digits and business-scoped user ids look like "GB.1502576394655843";
 * both become part of the chat key (core/ids.ts), so anything outside its characters is refused
 * here, with its path, instead of failing inside the store transaction. Empty means withheld.
 */
const idCharacters = /^[A-Za-z0-9._+@-]*$/;
const waId = z.string().max(64).regex(idCharacters, 'expected a WhatsApp id: letters, digits and . _ + @ -');
const bsuid = z.string().max(160).regex(idCharacters, 'expected a business-scoped user id: letters, digits and . _ + @ -');

export const cloudErrorSchema = z.looseObject({
  code: z.number().int(),
  title: z.string().max(1024).optional(),
  message: z.string().max(4096).optional(),
  error_data: z.looseObject({ details: z.string().max(4096).optional() }).optional(),
  href: z.string().max(2048).optional(),
});
export type CloudError = z.infer<typeof cloudErrorSchema>;

const mediaSchema = z.looseObject({
  id: z.string().min(1).max(256),
  mime_type: z.string().max(255).optional(),
  sha256: z.string().max(128).optional(),
  caption: z.string().max(65536).optional(),
  filename: z.string().max(1024).optional(),
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
  url: z.string().max(4096).optional(),
});
export type CloudMedia = z.infer<typeof mediaSchema>;

const typed = <T extends z.ZodType>(item: T) => z.array(item).optional();
const contactCardSchema = z.looseObject({
  name: z
    .looseObject({
      formatted_name: z.string().max(1024).optional(),
      first_name: z.string().max(1024).optional(),
      last_name: z.string().max(1024).optional(),
    })
    .optional(),
  phones: typed(z.looseObject({ phone: z.string().max(64).optional(), wa_id: waId.optional(), type: z.string().max(64).optional() })),
  emails: typed(z.looseObject({ email: z.string().max(512).optional(), type: z.string().max(64).optional() })),
  urls: typed(z.looseObject({ url: z.string().max(2048).optional(), type: z.string().max(64).optional() })),
  org: z.looseObject({ company: z.string().max(512).optional(), department: z.string().max(512).optional(), title: z.string().max(512).optional() }).optional(),
  addresses: typed(
    z.looseObject({
      street: z.string().max(1024).optional(),
      city: z.string().max(512).optional(),
      state: z.string().max(512).optional(),
      zip: z.string().max(64).optional(),
      country: z.string().max(512).optional(),
      type: z.string().max(64).optional(),
    }),
  ),
  birthday: z.string().max(32).optional(),
});
export type CloudContactCard = z.infer<typeof contactCardSchema>;

const replySchema = z.looseObject({ id: z.string().max(1024).optional(), title: z.string().max(4096).optional(), description: z.string().max(4096).optional() });

/** The type objects of every documented message type; only the one named by `type` is present. */
const contentFields = {
  text: z.looseObject({ body: z.string().max(65536) }).optional(),
  image: mediaSchema.optional(),
  video: mediaSchema.optional(),
  audio: mediaSchema.optional(),
  document: mediaSchema.optional(),
  sticker: mediaSchema.optional(),
  location: z
    .looseObject({
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().max(1024).optional(),
      address: z.string().max(2048).optional(),
      url: z.string().max(2048).optional(),
    })
    .optional(),
  contacts: z.array(contactCardSchema).min(1).optional(),
  interactive: z
    .looseObject({
      type: z.string().min(1).max(64),
      button_reply: replySchema.optional(),
      list_reply: replySchema.optional(),
      nfm_reply: z.looseObject({ response_json: z.string().max(65536).optional(), body: z.string().max(4096).optional(), name: z.string().max(256).optional() }).optional(),
    })
    .optional(),
  button: z.looseObject({ text: z.string().max(4096), payload: z.string().max(4096).optional() }).optional(),
  reaction: z.looseObject({ message_id: z.string().min(1).max(256), emoji: z.string().max(64).optional() }).optional(),
  unsupported: z.looseObject({ type: z.string().max(128).optional() }).optional(),
  system: z
    .looseObject({
      body: z.string().max(65536).optional(),
      type: z.string().max(128).optional(),
      wa_id: waId.optional(),
      new_wa_id: waId.optional(),
      user_id: bsuid.optional(),
      previous_user_id: bsuid.optional(),
    })
    .optional(),
  revoke: z.looseObject({ original_message_id: z.string().min(1).max(256) }).optional(),
  errors: z.array(cloudErrorSchema).optional(),
};

/** Types whose object normalize.ts reads; for these the object named by `type` must be present. */
const typesWithObject = new Set(['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'interactive', 'button', 'reaction', 'system', 'edit', 'revoke']);

const requireTypeObject = (message: { type: string } & Record<string, unknown>, ctx: z.RefinementCtx): void => {
  if (typesWithObject.has(message.type) && message[message.type] === undefined) {
    ctx.addIssue({ code: 'custom', path: [message.type], message: `a message of type "${message.type}" needs its "${message.type}" object` });
  }
};

/** The new content inside an `edit` (Coexistence numbers only, Meta messages webhook reference). */
const editedMessageSchema = z
  .looseObject({
    type: z.string().min(1).max(64),
    context: z.looseObject({ id: z.string().max(256).optional(), from: z.string().max(256).optional() }).optional(),
    ...contentFields,
  })
  .superRefine(requireTypeObject);
export type CloudEditedMessage = z.infer<typeof editedMessageSchema>;

export const cloudMessageSchema = z
  .looseObject({
    id: z.string().min(1).max(256),
    /** Empty or absent for users with a username whose number the business has not seen (BSUID doc). */
    from: waId.optional(),
    from_user_id: bsuid.optional(),
    timestamp: unixSeconds,
    /** Kept as any string: an unknown type still parses and becomes unsupported content. */
    type: z.string().min(1).max(64),
    context: z
      .looseObject({
        id: z.string().max(256).optional(),
        from: z.string().max(256).optional(),
        forwarded: z.boolean().optional(),
        frequently_forwarded: z.boolean().optional(),
      })
      .optional(),
    edit: z.looseObject({ original_message_id: z.string().min(1).max(256), message: editedMessageSchema }).optional(),
    ...contentFields,
  })
  .superRefine(requireTypeObject);
export type CloudMessage = z.infer<typeof cloudMessageSchema>;

export const cloudContactSchema = z.looseObject({
  wa_id: waId.optional(),
  user_id: bsuid.optional(),
  profile: z.looseObject({ name: z.string().max(1024).optional(), username: z.string().max(256).optional() }).optional(),
});
export type CloudContact = z.infer<typeof cloudContactSchema>;

export const cloudStatusSchema = z.looseObject({
  id: z.string().min(1).max(256),
  /** Any string here; normalize.ts keeps the four the Cloud API documents (Meta status webhook reference). */
  status: z.string().min(1).max(64),
  timestamp: unixSeconds,
  recipient_id: z.string().max(256).optional(),
  recipient_user_id: bsuid.optional(),
  biz_opaque_callback_data: z.string().max(512).optional(),
  errors: z.array(cloudErrorSchema).optional(),
});
export type CloudStatus = z.infer<typeof cloudStatusSchema>;

export const cloudValueSchema = z.looseObject({
  messaging_product: z.literal('whatsapp'),
  metadata: z.looseObject({
    display_phone_number: z.string().max(64).optional(),
    // The business half of every chat key (core/ids.ts).
    phone_number_id: z.string().min(1).max(64).regex(/^[A-Za-z0-9._+-]+$/, 'expected a phone number id: letters, digits and . _ + -'),
  }),
  contacts: z.array(cloudContactSchema).optional(),
  messages: z.array(cloudMessageSchema).optional(),
  statuses: z.array(cloudStatusSchema).optional(),
  /** Account-level errors (e.g. 130429 rate limit); no event of their own. */
  errors: z.array(cloudErrorSchema).optional(),
});
export type CloudValue = z.infer<typeof cloudValueSchema>;

/**
 * One change. Only `field: "messages"` carries inbound messages and statuses (Meta webhooks reference);
 * other fields (template updates, username decisions, ...) have other shapes and are not ours to
 * validate, so their value is dropped here and normalize.ts skips them.
 */
const changeSchema = z.looseObject({ field: z.string().min(1).max(128), value: z.unknown() }).transform((change, ctx) => {
  if (change.field !== 'messages') return { field: change.field, value: undefined };
  const parsed = cloudValueSchema.safeParse(change.value);
  if (parsed.success) return { field: change.field, value: parsed.data };
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: ['value', ...issue.path] });
  return z.NEVER;
});

export const cloudWebhookSchema = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.looseObject({ id: z.string().min(1).max(64), changes: z.array(changeSchema) })),
});
export type CloudWebhookPayload = z.infer<typeof cloudWebhookSchema>;

/**
 * Validates a parsed webhook body. Throws BadInputError `bad_payload` listing every issue with its
 * path (`entry[0].changes[0].value.messages[1].timestamp`); messages never quote the input.
 * Lone surrogates in the body's strings are replaced by U+FFFD in place first.
 */
export function parseCloudWebhook(json: unknown): CloudWebhookPayload {
  const unarchivable = findUnarchivable(json);
  if (unarchivable) {
    throw new BadInputError('bad_payload', `The webhook body holds a value the archive cannot keep as JSON: ${unarchivable.message}; no Cloud API payload does.`, [
      { path: formatPath(unarchivable.path), message: unarchivable.message },
    ]);
  }
  const parsed = cloudWebhookSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new BadInputError('bad_payload', 'The webhook body is not a WhatsApp Cloud API messages webhook as documented; see errors for each field.', toFieldIssues(parsed.error.issues));
}

/**
 * Documented payloads nest about ten levels. Unknown fields are kept raw in the archive, whose
 * canonical JSON and the store's serializer recurse and admit only finite numbers, so a body
 * nested thousands of levels deep, or a number JSON.parse turned into Infinity (1e400), would
 * fail there with a 500 that Meta redelivers for days, instead of being refused here.
 */
const maxNesting = 100;

// A UTF-16 surrogate without its other half: JSON allows the escape ("\ud800"), UTF-8 cannot hold it.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const loneSurrogates = new RegExp(loneSurrogate.source, 'g');

/** A value still to visit, with the way back to the root: the path is only spelled out for a finding. */
interface Visit {
  value: unknown;
  depth: number;
  parent?: Visit;
  key?: PropertyKey;
}

function pathOf(visit: Visit): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) path.push(at.key!);
  return path.reverse();
}

/**
 * Walks the parsed body without recursion. Returns the first value nested deeper than
 * maxNesting or a number that is not finite. Replaces, in place, every lone surrogate in a
 * string value by U+FFFD, as the webhook already does for bytes that are not UTF-8: the store
 * writes text as UTF-8 (so a message id would be stored changed) while the chain link is computed
 * over the escape, and the archive would no longer verify. Every webhook passes through here, so
 * it allocates nothing per string that is well formed and no path unless it finds something.
 */
function findUnarchivable(root: unknown): { path: PropertyKey[]; message: string } | undefined {
  const stack: Visit[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { value } = visit;
    if (typeof value === 'number' && !Number.isFinite(value)) return { path: pathOf(visit), message: 'a number beyond the range of a double' };
    if (value === null || typeof value !== 'object') continue;
    if (visit.depth >= maxNesting) return { path: pathOf(visit), message: `objects and arrays nested more than ${maxNesting} levels deep` };
    const container = value as Record<string, unknown>;
    const isArray = Array.isArray(value);
    for (const key of Object.keys(container)) {
      const child = container[key];
      if (typeof child === 'string') {
        if (loneSurrogate.test(child)) container[key] = child.replace(loneSurrogates, '\ufffd');
      } else {
        stack.push({ value: child, depth: visit.depth + 1, parent: visit, key: isArray ? Number(key) : key });
      }
    }
  }
  return undefined;
}

export function toFieldIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): FieldIssue[] {
  return issues.map((issue) => ({ path: formatPath(issue.path, prefix), message: issue.message }));
}

export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}
