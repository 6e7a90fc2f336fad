import type { Selectable } from 'kysely';
import type { ChannelKind, Direction, EventKind, InboundEvent } from '../core/events.js';
import type { EventKey, EventRecord, NewEventRecord } from '../core/records.js';
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

export async function hasEvent(db: Executor, key: { tenant: string; channel: string; waMessageId: string; kind: string; versionKey: string }): Promise<boolean> {
  const row = await db
    .selectFrom('events')
    .select('id')
    .where('tenant', '=', key.tenant)
    .where('channel', '=', key.channel)
    .where('wa_message_id', '=', key.waMessageId)
    .where('kind', '=', key.kind)
    .where('version_key', '=', key.versionKey)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertEvent(db: Executor, tenant: string, e: NewEventRecord): Promise<EventRecord> {
  const row = await db
    .insertInto('events')
    .values({
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
      event_json: JSON.stringify(e.event),
      chain_sha256: e.chainHash,
      received_at: e.receivedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEvent(row);
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

export async function listEventKeysBefore(db: Executor, conversationId: number, seq: number, limit: number): Promise<EventKey[]> {
  const rows = await db
    .selectFrom('events')
    .select(['seq', 'channel', 'wa_message_id', 'kind', 'version_key'])
    .where('conversation_id', '=', conversationId)
    .where('seq', '<', seq)
    .orderBy('seq', 'desc')
    .limit(limit)
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

/** Up to `limit` events before `beforeSeq` (all when undefined), newest first. */
export async function listEventPage(db: Executor, conversationId: number, beforeSeq: number | undefined, limit: number): Promise<EventRecord[]> {
  let query = db.selectFrom('events').selectAll().where('conversation_id', '=', conversationId).orderBy('seq', 'desc').limit(limit);
  if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
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
