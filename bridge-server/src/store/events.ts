import type { Selectable } from 'kysely';
import type { ChannelKind, Direction, EventKind, InboundEvent } from '../core/events.js';
import type { EventKey, EventRecord, NewEventRecord } from '../core/records.js';
import { compiledOnce } from './compiled.js';
import { rowLimit } from './dialect.js';
import type { Executor } from './executor.js';
import type { EventsTable } from './schema.js';

export function toEvent(row: Selectable<EventsTable>): EventRecord {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: row.seq,
    channel: row.channel as ChannelKind,
    waMessageId: row.wa_message_id,
    kind: row.kind as EventKind,
    versionKey: row.version_key,
    direction: row.direction as Direction,
    timestamp: row.wa_timestamp,
    // Validated by the channel before it was stored; the archive is trusted on the way out.
    event: JSON.parse(row.event_json) as InboundEvent,
    chainHash: row.chain_sha256,
    receivedAt: row.received_at,
  };
}

const selectEventId = compiledOnce((db) =>
  db.selectFrom('events').select('id').where('tenant', '=', '').where('channel', '=', '').where('wa_message_id', '=', '').where('kind', '=', '').where('version_key', '=', ''),
);

export async function hasEvent(db: Executor, key: { tenant: string; channel: string; waMessageId: string; kind: string; versionKey: string }): Promise<boolean> {
  const rows = await selectEventId(db, [key.tenant, key.channel, key.waMessageId, key.kind, key.versionKey]);
  return rows.length > 0;
}

/** The columns an event row is stored with, in the order eventRowValues lists them. */
export const eventColumns = ['conversation_id', 'seq', 'tenant', 'channel', 'wa_message_id', 'kind', 'version_key', 'direction', 'content_type', 'wa_timestamp', 'event_json', 'chain_sha256', 'received_at'] as const;
const insertEventRow = compiledOnce((db) =>
  db
    .insertInto('events')
    .values(Object.fromEntries(eventColumns.map((column) => [column, null])) as never)
    .returning('id'),
);

/** The values of the event's row, in the order of eventColumns, and its stored JSON. */
export function eventRowValues(tenant: string, e: NewEventRecord): { values: unknown[]; eventJson: string } {
  const eventJson = JSON.stringify(e.event);
  const values: Record<(typeof eventColumns)[number], unknown> = {
    conversation_id: e.conversationId,
    seq: e.seq,
    tenant,
    channel: e.channel,
    wa_message_id: e.waMessageId,
    kind: e.kind,
    version_key: e.versionKey,
    direction: e.direction,
    content_type: 'content' in e.event ? e.event.content.type : null,
    wa_timestamp: e.timestamp,
    event_json: eventJson,
    chain_sha256: e.chainHash,
    received_at: e.receivedAt,
  };
  return { values: eventColumns.map((column) => values[column]), eventJson };
}

/**
 * The record of an event just stored, built from what was stored (the row holds nothing the
 * caller did not give but its id) instead of read back. The event is the stored JSON parsed, as a
 * reader of the archive would see it.
 */
export function toStoredEvent(id: number, e: NewEventRecord, eventJson: string): EventRecord {
  return {
    id,
    conversationId: e.conversationId,
    seq: e.seq,
    channel: e.channel,
    waMessageId: e.waMessageId,
    kind: e.kind,
    versionKey: e.versionKey,
    direction: e.direction,
    timestamp: e.timestamp,
    event: JSON.parse(eventJson) as InboundEvent,
    chainHash: e.chainHash,
    receivedAt: e.receivedAt,
  };
}

/** Stores an event and returns its record (see toStoredEvent). */
export async function insertEvent(db: Executor, tenant: string, e: NewEventRecord): Promise<EventRecord> {
  const { values, eventJson } = eventRowValues(tenant, e);
  const [row] = await insertEventRow(db, values);
  if (!row) throw new Error('the event insert returned no id');
  return toStoredEvent(row.id, e, eventJson);
}

export async function getEvent(db: Executor, id: number): Promise<EventRecord | undefined> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toEvent(row) : undefined;
}

export async function findMessageByWaId(db: Executor, conversationId: number, waMessageId: string): Promise<EventRecord | undefined> {
  const row = await db
    .selectFrom('events')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('wa_message_id', '=', waMessageId)
    .where('kind', '=', 'message')
    .orderBy('seq', 'desc')
    .executeTakeFirst();
  return row ? toEvent(row) : undefined;
}

/** The newest stored message for each of these WhatsApp ids in the conversation, one query for all. */
export async function latestMessagesByWaId(db: Executor, conversationId: number, waIds: readonly string[]): Promise<Map<string, EventRecord>> {
  const out = new Map<string, EventRecord>();
  if (waIds.length === 0) return out;
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('wa_message_id', 'in', [...waIds])
    .where('kind', '=', 'message')
    .orderBy('seq', 'desc')
    .execute();
  for (const row of rows) if (!out.has(row.wa_message_id)) out.set(row.wa_message_id, toEvent(row));
  return out;
}

export async function listEventKeysBefore(db: Executor, conversationId: number, seq: number, limit: number): Promise<EventKey[]> {
  const rows = await db
    .selectFrom('events')
    .select(['seq', 'channel', 'wa_message_id', 'kind', 'version_key'])
    .where('conversation_id', '=', conversationId)
    .where('seq', '<', seq)
    .orderBy('seq', 'desc')
    .limit(rowLimit(db, limit))
    .execute();
  return rows.reverse().map((row) => ({
    seq: row.seq,
    channel: row.channel as ChannelKind,
    waMessageId: row.wa_message_id,
    kind: row.kind as EventKind,
    versionKey: row.version_key,
  }));
}

export async function listEvents(db: Executor, conversationId: number): Promise<EventRecord[]> {
  const rows = await db.selectFrom('events').selectAll().where('conversation_id', '=', conversationId).orderBy('seq').execute();
  return rows.map(toEvent);
}

export async function countEvents(db: Executor): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Up to `limit` events sent before `before` (all when undefined), newest first by when they were
 * sent, then by the order they were stored: history imported later sits among the messages of
 * its time, not after everything stored before it.
 */
export async function listEventPage(db: Executor, conversationId: number, before: { at: number; seq: number } | undefined, limit: number): Promise<EventRecord[]> {
  let query = db.selectFrom('events').selectAll().where('conversation_id', '=', conversationId).orderBy('wa_timestamp', 'desc').orderBy('seq', 'desc').limit(limit);
  if (before !== undefined) query = query.where((eb) => eb.or([eb('wa_timestamp', '<', before.at), eb.and([eb('wa_timestamp', '=', before.at), eb('seq', '<', before.seq)])]));
  return (await query.execute()).map(toEvent);
}

/** Events stored after `afterId` (any conversation), oldest first: the live stream's feed. */
export async function listEventsAfter(db: Executor, afterId: number, limit: number): Promise<EventRecord[]> {
  const rows = await db.selectFrom('events').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
  return rows.map(toEvent);
}

export async function maxEventId(db: Executor): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}
