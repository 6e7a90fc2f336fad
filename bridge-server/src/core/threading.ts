import type { EventKind } from './events.js';
import { closeRightToLeft, toHeaderText, truncateText } from './header-text.js';
import { base32, sha256, type ChatToken } from './ids.js';
import { formatPhone } from '@wa-bridge/shared/phone';

/**
 * The threading rules: Message-IDs, subject, Thread-Index and References, each a pure function
 * of stored facts, so a retry derives exactly the same headers (RFC 5322 3.6.4, RFC 5256, MS-OXOMSG 2.2.1).
 */

// Versioned so the scheme can change later without colliding with ids already in mailboxes.
const scheme = 'wa-bridge:v1';

const domainPattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function checkDomain(domain: string): string {
  // RFC 5322 3.6.4: id-right is a dot-atom; anything else would make an unparsable Message-ID.
  if (!domainPattern.test(domain)) throw new TypeError(`not a mail domain: ${JSON.stringify(domain)}`);
  return domain;
}

/** 26 lower-case base32 characters (130 bits) of SHA-256: dot-atom safe and ample for uniqueness. */
const hashToken = (input: string): string => base32(sha256(input)).slice(0, 26);

/**
 * The Message-ID (without angle brackets) of the mail for one WhatsApp event. A plain message
 * hashes tenant, channel and WhatsApp id only; any other kind, or a version key, is appended,
 * because mail stores drop a second mail with a known Message-ID (Exchange and Mimecast de-duplicate on Message-ID) and an
 * edit, deletion or reaction must never vanish as a "duplicate" of the message it concerns.
 */
export function eventMailId(tenant: string, channel: string, waMessageId: string, kind: EventKind, versionKey: string, domain: string): string {
  // Each part led by its length, so no two different calls share a key whatever the parts hold.
  const key = `${tenant.length}:${tenant}${channel.length}:${channel}${waMessageId.length}:${waMessageId}${kind}:${versionKey.length}:${versionKey}${domain}`;
  const known = recentMailIds.get(key);
  if (known !== undefined) return known;
  const base = `${scheme}:${tenant}:${channel}:${waMessageId}`;
  const input = kind === 'message' && versionKey === '' ? base : `${base}:${kind}:${versionKey}`;
  const id = `m.${hashToken(input)}@${checkDomain(domain)}`;
  if (recentMailIds.size >= recentMailIdsLimit) recentMailIds.clear();
  recentMailIds.set(key, id);
  return id;
}

// Each relayed mail names up to 20 earlier mails of its chat in References, which the next mail
// names again: the ids are remembered rather than hashed anew each time. A pure function of its
// arguments, so a remembered id is the one it would compute.
const recentMailIds = new Map<string, string>();
const recentMailIdsLimit = 8192;

/** The chat's root Message-ID, carried by the "conversation opened" cover mail. */
export function rootMailId(chatToken: ChatToken, domain: string): string {
  return `chat.${chatToken}@${checkDomain(domain)}`;
}

export interface SubjectParts {
  clientName: string | null;
  clientWaId: string | null;
  clientUserId: string | null;
  chatToken: ChatToken;
}

// MAPI requires prefix + normalized subject < 254 characters (PidTagNormalizedSubject); keeping
// the subject to 249 leaves room for the "RE: " a reply adds.
const subjectLimit = 249;
const subjectLead = 'WhatsApp · ';
const idLimit = 64;

/**
 * The thread's subject, e.g. `WhatsApp · Jane Smith (+44 7700 900123) [WA i5y2nb]`. It always
 * starts with "WhatsApp ·", never with a 1-3 letter word and a colon, which Outlook would strip as
 * a reply prefix and so split the conversation (MS-OXOMSG 2.2.1.2). Call it once per chat and
 * store the result: the subject must stay byte-identical for the life of the chat.
 */
export function makeSubject(parts: SubjectParts): string {
  const phone = parts.clientWaId === null ? null : formatPhone(parts.clientWaId);
  const id = truncateText(phone ?? toHeaderText(parts.clientUserId ?? ''), idLimit);
  const tag = `[WA ${parts.chatToken.slice(0, 6)}]`;
  const idPart = id === '' ? '' : ` (${id})`;
  // One unit kept for the mark closeRightToLeft may add.
  const budget = subjectLimit - subjectLead.length - idPart.length - tag.length - 2;
  const cleaned = truncateText(toHeaderText(parts.clientName ?? ''), budget);
  const name = cleaned === '' ? '' : closeRightToLeft(cleaned);
  if (name !== '') return `${subjectLead}${name}${idPart} ${tag}`;
  if (id !== '') return `${subjectLead}${id} ${tag}`;
  return `${subjectLead}client ${tag}`;
}

/** The chat's 16-byte conversation GUID: only these bytes decide Outlook grouping (MS-OXOMSG 2.2.1.2). */
export function chatGuid(chatToken: ChatToken): Buffer {
  return Buffer.from(sha256(`${scheme}:thread-guid:${chatToken}`).subarray(0, 16));
}

// FILETIME counts 100 ns ticks since 1601-01-01 UTC.
const filetimeAtUnixEpoch = 116_444_736_000_000_000n;

function toFiletime(timeMs: number): bigint {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0) throw new RangeError(`not a timestamp in milliseconds: ${timeMs}`);
  return BigInt(timeMs) * 10_000n + filetimeAtUnixEpoch;
}

/**
 * The 22-byte header block, classic layout (MS-OXOMSG 2.2.1.3): bytes 0-5 are FILETIME >> 16
 * big-endian (what desktop Outlook writes; MS-OXOMSG 2.2.1.3), then the 16-byte GUID.
 */
export function threadIndexHeader(guid16: Uint8Array, rootTimeMs: number): Buffer {
  if (guid16.length !== 16) throw new RangeError(`a conversation GUID has 16 bytes, got ${guid16.length}`);
  const block = Buffer.alloc(22);
  block.writeUIntBE(Number(toFiletime(rootTimeMs) >> 16n), 0, 6);
  block.set(guid16, 6);
  return block;
}

const dcThreshold = 1n << 49n;
const field31 = 0x7fff_ffffn;

/**
 * One 5-byte child block (MS-OXOMSG 2.2.1.3). The delta is measured from the time the header
 * actually represents (its low 16 bits are lost), clamped at 0 for a clock that runs backwards.
 * Below 2^49 ticks (about 1.78 years) DC = 0 and the 31-bit field holds delta >> 18; above it
 * DC = 1 and the field holds delta >> 23, saturating instead of wrapping so a very late child
 * still sorts last. The fifth byte is the "random" byte, supplied by the caller.
 */
export function threadIndexChild(rootTimeMs: number, childTimeMs: number, randomByte: number): Buffer {
  const headerTime = (toFiletime(rootTimeMs) >> 16n) << 16n;
  const raw = toFiletime(childTimeMs) - headerTime;
  const delta = raw < 0n ? 0n : raw;
  const word = delta < dcThreshold ? delta >> 18n : (1n << 31n) | minBigint(delta >> 23n, field31);
  const block = Buffer.alloc(5);
  block.writeUInt32BE(Number(word), 0);
  block[4] = randomByte & 0xff;
  return block;
}

const minBigint = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * The Thread-Index value with an explicit random byte: the header block alone, or the header plus
 * exactly one child block. Every mail of a chat is a child of the root rather than of the
 * previous mail, so the header stays 27 bytes however long the chat (MS-OXOMSG 2.2.1.3).
 */
export function encodeThreadIndex(guid16: Uint8Array, rootTimeMs: number, child: { timeMs: number; randomByte: number } | null): string {
  const header = threadIndexHeader(guid16, rootTimeMs);
  if (child === null) return header.toString('base64');
  return Buffer.concat([header, threadIndexChild(rootTimeMs, child.timeMs, child.randomByte)]).toString('base64');
}

/**
 * The Thread-Index header value. For a child, the random byte is derived from the child mail's
 * Message-ID, so a retry of the same mail yields the same bytes.
 */
export function threadIndex(guid16: Uint8Array, rootTimeMs: number, childTimeMs: null): string;
export function threadIndex(guid16: Uint8Array, rootTimeMs: number, childTimeMs: number, childMailId: string): string;
export function threadIndex(guid16: Uint8Array, rootTimeMs: number, childTimeMs: number | null, childMailId?: string): string {
  if (childTimeMs === null) return encodeThreadIndex(guid16, rootTimeMs, null);
  const randomByte = sha256(`${scheme}:thread-index:${childMailId ?? ''}`)[0] ?? 0;
  return encodeThreadIndex(guid16, rootTimeMs, { timeMs: childTimeMs, randomByte });
}

const referencesLimit = 20;

/**
 * The References list (ids without angle brackets): the root first, then at most the last 20
 * earlier mails, the parent last, each id once. RFC 5322 3.6.4 asks for the parent's References
 * plus the parent; trimming the middle keeps root and parent, which is all JWZ threading, IMAP
 * THREAD=REFERENCES and Gmail need (RFC 5322 3.6.4), and keeps the header short.
 */
export function references(rootId: string, previousIds: readonly string[]): string[] {
  const seen = new Set<string>([rootId]);
  const recent: string[] = [];
  for (let i = previousIds.length - 1; i >= 0 && recent.length < referencesLimit; i--) {
    const id = previousIds[i];
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    recent.push(id);
  }
  return [rootId, ...recent.reverse()];
}
