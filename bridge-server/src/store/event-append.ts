import { CompiledQuery, type Selectable } from 'kysely';
import type { ClientLookup } from '../core/ports.js';
import type { ConversationRecord, EventRecord, NewEventRecord, NewJob } from '../core/records.js';
import { advanceConversation, findConversation, toConversation } from './conversations.js';
import { dialectOf } from './dialect.js';
import { eventColumns, eventRowValues, hasEvent, insertEvent, toStoredEvent } from './events.js';
import type { Executor } from './executor.js';
import { enqueue, jobRowValues } from './outbox.js';
import type { ConversationsTable } from './schema.js';

// An inbound event's way into the archive, in as few statements as the engine makes worthwhile.
// On PostgreSQL every statement is a round trip, and each webhook sent one for its duplicate
// check, its conversation, its event, the conversation's new head and its job: here the first two
// are one statement and the last three another. SQLite runs statements as function calls, so it
// keeps the plain ones, one at a time. Both store the same rows.

export type EventKeyLookup = { tenant: string; channel: string; waMessageId: string; kind: string; versionKey: string };

/**
 * Whether an event with this unique key is stored already and, when it is not, the conversation
 * findConversation finds for `lookup` (held for this transaction's appends the same way). When
 * the event is stored, no conversation is read or held.
 */
export async function findConversationUnlessStored(
  db: Executor,
  key: EventKeyLookup,
  lookup: ClientLookup,
): Promise<{ stored: true } | { stored: false; conversation: ConversationRecord | undefined }> {
  if (dialectOf(db) !== 'postgres') {
    if (await hasEvent(db, key)) return { stored: true };
    return { stored: false, conversation: await findConversation(db, lookup) };
  }
  // findConversation looks by user_id first and by phone number after; the first look goes here.
  const byUserId = lookup.userId !== undefined;
  const { rows } = await db.executeQuery<Selectable<ConversationsTable> & { event_stored: boolean }>(
    CompiledQuery.raw(byUserId ? checkByUserId : checkByWaId, [key.tenant, key.channel, key.waMessageId, key.kind, key.versionKey, lookup.tenant, lookup.channel, lookup.businessId, byUserId ? lookup.userId : lookup.waId]),
  );
  const first = rows[0];
  if (first?.event_stored) return { stored: true };
  if (first && first.id !== null) return { stored: false, conversation: toConversation(first) };
  if (byUserId && lookup.waId !== undefined) {
    const byWaId = { tenant: lookup.tenant, channel: lookup.channel, businessId: lookup.businessId, waId: lookup.waId };
    return { stored: false, conversation: await findConversation(db, byWaId) };
  }
  return { stored: false, conversation: undefined };
}

/**
 * The duplicate check and the conversation's locked read (conversations.findConversation) as one
 * statement: the conversation is read, and locked, only when no event has the key. One row always
 * comes back (the conversation's columns null when none was found), then one per further match.
 */
const checkThenFind = (column: 'client_user_id' | 'client_wa_id') => `
  WITH stored AS (
    SELECT 1 FROM events WHERE tenant = $1 AND channel = $2 AND wa_message_id = $3 AND kind = $4 AND version_key = $5
  ), found AS (
    SELECT * FROM conversations
    WHERE tenant = $6 AND channel = $7 AND business_id = $8 AND ${column} = $9 AND NOT EXISTS (SELECT 1 FROM stored)
    FOR NO KEY UPDATE
  )
  SELECT EXISTS (SELECT 1 FROM stored) AS event_stored, found.*
  FROM (VALUES (0)) AS one (n) LEFT JOIN found ON true
  ORDER BY found.id`;
const checkByUserId = checkThenFind('client_user_id');
const checkByWaId = checkThenFind('client_wa_id');

/**
 * Stores an event and, each when asked, moves its conversation's head to it (`advance`) and
 * enqueues the job `job` builds from the event's id: insertEvent, advanceConversation and
 * enqueue, in that order, with the same rows. Returns the stored event's record.
 */
export async function appendEventRecord(
  db: Executor,
  tenant: string,
  now: number,
  e: NewEventRecord,
  follow: { advance: boolean; job?: (eventId: number) => NewJob },
): Promise<EventRecord> {
  const template = follow.job && dialectOf(db) === 'postgres' ? jobTemplate(follow.job) : undefined;
  if (dialectOf(db) !== 'postgres' || template === null) {
    const stored = await insertEvent(db, tenant, e);
    if (follow.advance) await advanceConversation(db, e.conversationId, e.seq, e.chainHash);
    if (follow.job) await enqueue(db, follow.job(stored.id), now);
    return stored;
  }
  const { values, eventJson } = eventRowValues(tenant, e);
  const parameters = [...values];
  const parts = [`WITH event AS (INSERT INTO events (${eventColumns.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id)`];
  const next = (value: unknown): string => `$${parameters.push(value)}`;
  if (follow.advance) {
    parts.push(`, head AS (UPDATE conversations SET last_seq = ${next(e.seq)}, chain_head = ${next(e.chainHash)} WHERE id = ${next(e.conversationId)})`);
  }
  if (template) {
    // The payload is the JSON the job would have, with the event's id written in where it goes.
    const [kind, , laneKey, sortKey, runAt, , , createdAt, updatedAt] = jobRowValues(template.job, now);
    parts.push(
      `, job AS (INSERT INTO outbox_jobs (kind, payload_json, conversation_id, sort_key, run_at, locked_until, last_error, created_at, updated_at)` +
        ` SELECT ${next(kind)}::text, ${next(template.before)}::text || event.id::text || ${next(template.after)}::text, ${next(laneKey)}::bigint, ${next(sortKey)}::bigint,` +
        ` ${next(runAt)}::bigint, NULL, NULL, ${next(createdAt)}::bigint, ${next(updatedAt)}::bigint FROM event)`,
    );
  }
  parts.push(' SELECT id FROM event');
  const { rows } = await db.executeQuery<{ id: number }>(CompiledQuery.raw(parts.join(''), parameters));
  const row = rows[0];
  if (!row) throw new Error('the event insert returned no id');
  return toStoredEvent(row.id, e, eventJson);
}

/** An id no event gets, standing for the event's id while the job is built before the insert. */
const PROBE_ID = Number.MAX_SAFE_INTEGER;

/**
 * The job `build` makes for an event, with its payload's JSON split where the event's id goes;
 * null when the id shows anywhere but once in the payload (the store then enqueues after the
 * insert, as enqueue does). Checked against a second id, so a builder that used the id in any other
 * way is caught rather than stored wrong.
 */
function jobTemplate(build: (eventId: number) => NewJob): { job: NewJob; before: string; after: string } | null {
  const job = build(PROBE_ID);
  const pieces = JSON.stringify(job.payload).split(String(PROBE_ID));
  if (pieces.length !== 2) return null;
  const [before, after] = pieces as [string, string];
  const other = build(PROBE_ID - 1);
  const same =
    JSON.stringify(other.payload) === `${before}${PROBE_ID - 1}${after}` &&
    other.kind === job.kind &&
    other.conversationId === job.conversationId &&
    other.lane === job.lane &&
    other.sortKey === job.sortKey &&
    other.runAt === job.runAt;
  return same ? { job, before, after } : null;
}
