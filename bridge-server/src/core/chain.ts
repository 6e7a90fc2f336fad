import { sha256 } from './ids.js';
import type { NewEventRecord } from './records.js';

/**
 * The per-conversation hash chain. Each stored event gets
 *   link = sha256( "wa-bridge-chain:v1\n" + previous link (hex, '' for the first) + "\n" + canonical record )
 * where the canonical record is JSON with keys sorted at every level and no insignificant
 * whitespace, so any change to a stored event, its order, or an earlier link changes every later
 * link. Media enter through the SHA-256 their event announces.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value) ?? 'null';
  }
  // Written with plain loops: every stored event passes through here, and building entry arrays,
  // filtering, sorting and joining them at every level made it the largest producer of garbage
  // per relayed message. The output is unchanged (chain.test.ts compares it on generated values).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) out += ',';
      // A hole stays empty, as Array.prototype.map and join leave it.
      if (i in value) out += canonicalJson(value[i] === undefined ? null : value[i]);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  // Sorted by UTF-16 code units, as the relational operators compare strings.
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** The fields of an event record that the chain covers (everything but storage ids and the link). */
export function canonicalRecord(chatKey: string, record: Omit<NewEventRecord, 'chainHash' | 'conversationId'>): string {
  return canonicalJson({
    v: 1,
    chatKey,
    seq: record.seq,
    channel: record.channel,
    waMessageId: record.waMessageId,
    kind: record.kind,
    versionKey: record.versionKey,
    direction: record.direction,
    timestamp: record.timestamp,
    receivedAt: record.receivedAt,
    event: record.event,
  });
}

export function chainLink(previous: string, canonical: string): string {
  return sha256(`wa-bridge-chain:v1\n${previous}\n${canonical}`).toString('hex');
}
