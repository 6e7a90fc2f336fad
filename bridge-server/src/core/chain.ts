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
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
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
