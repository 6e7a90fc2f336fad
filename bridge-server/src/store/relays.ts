import { sql, type Selectable } from 'kysely';
import type { ChannelKind, EventKind } from '../core/events.js';
import type { AttachmentRecord, ConversationRecord, EventKey, EventRecord, PreparedRelay, RelayRecord } from '../core/records.js';
import { REFERENCES_DEPTH, relatedWaMessageId, type LoadedRelay, type RelayRunStore } from '../flows/relay.js';
import { toAttachment } from './attachments.js';
import { Coalesced, CoalescedWrites } from './coalesced.js';
import { compiledOnce } from './compiled.js';
import { toConversation } from './conversations.js';
import { latestMessagesByWaId, listEventKeysBefore, toEvent } from './events.js';
import { dialectOf } from './dialect.js';
import { executorOf, type Executor } from './executor.js';
import type { GroupCommit } from './group-commit.js';
import type { AttachmentsTable, ConversationsTable, EventsTable, MailRelaysTable } from './schema.js';

function toRelay(row: Selectable<MailRelaysTable>): RelayRecord {
  return {
    conversationId: row.conversation_id,
    eventId: row.event_id,
    mailMessageId: row.mail_message_id,
    rawSha256: row.raw_sha256,
    state: row.state as RelayRecord['state'],
    preparedAt: row.prepared_at,
    sentAt: row.sent_at,
    response: row.response,
  };
}

export async function getRelay(db: Executor, conversationId: number, eventId: number | null): Promise<RelayRecord | undefined> {
  const query = db.selectFrom('mail_relays').selectAll().where('conversation_id', '=', conversationId);
  const row = await (eventId === null ? query.where('event_id', 'is', null) : query.where('event_id', '=', eventId)).executeTakeFirst();
  return row ? toRelay(row) : undefined;
}

export async function getRelayByMessageId(db: Executor, mailMessageId: string): Promise<RelayRecord | undefined> {
  const row = await db.selectFrom('mail_relays').selectAll().where('mail_message_id', '=', mailMessageId).executeTakeFirst();
  return row ? toRelay(row) : undefined;
}

export async function prepareRelay(db: Executor, r: PreparedRelay): Promise<void> {
  await prepareRelays(db, [r]);
}

// Once per relayed mail on SQLite (PostgreSQL takes a run's rows in one statement, below):
// compiled once (see compiled.ts), one row each.
const insertBlob = compiledOnce((db) =>
  db
    .insertInto('blobs')
    .values({ sha256: '', size: 0, created_at: 0, content: null })
    .onConflict((oc) => oc.column('sha256').doNothing()),
);
const insertPreparedRelay = compiledOnce((db) =>
  db.insertInto('mail_relays').values({ conversation_id: 0, event_id: 0, mail_message_id: '', raw_sha256: '', state: 'prepared', prepared_at: 0, sent_at: null, response: null }),
);
const updateSent = compiledOnce((db) => db.updateTable('mail_relays').set({ state: 'sent', sent_at: 0, response: '' }).where('mail_message_id', '=', ''));

/**
 * Records mails as prepared, each with its stored bytes' blob (the bytes themselves in the row
 * when `inline` carries them), before any of them is sent.
 */
async function prepareRelays(db: Executor, relays: readonly PreparedRelay[]): Promise<void> {
  for (const r of relays) await insertBlob(db, [r.rawSha256, r.rawSize, r.preparedAt, r.inline ?? null]);
  for (const r of relays) await insertPreparedRelay(db, [r.conversationId, r.eventId, r.mailMessageId, r.rawSha256, 'prepared', r.preparedAt, null, null]);
}

export async function markRelaySent(db: Executor, mailMessageId: string, sentAt: number, response: string): Promise<void> {
  await updateSent(db, ['sent', sentAt, response, mailMessageId]);
}

export async function listRelays(db: Executor, conversationId: number): Promise<RelayRecord[]> {
  const rows = await db.selectFrom('mail_relays').selectAll().where('conversation_id', '=', conversationId).orderBy('id').execute();
  return rows.map(toRelay);
}

/**
 * The relay's reads and writes for a run of one conversation's mails, a fixed handful of
 * statements per run however long it is (see flows/relay.ts).
 */
export class SqlRelayRuns implements RelayRunStore {
  // Runs of different conversations finish together: their writes go as one (see CoalescedWrites).
  private readonly prepares: CoalescedWrites<PreparedRelay[]>;
  private readonly records: CoalescedWrites<RunRecord>;
  // PostgreSQL only: the facts of runs that start together are read in one statement.
  private readonly reads: Coalesced<RunRequest, RunFacts>;

  /**
   * `group`: on SQLite, the group commit the webhooks' writes go through: a run's writes then
   * share their transaction and its one commit with whatever else is written in that pass of the
   * event loop, rather than committing on their own.
   */
  constructor(
    private readonly db: Executor,
    group?: GroupCommit,
  ) {
    this.reads = new Coalesced((requests) => readRunsAtOnce(db, requests));
    const writer = group && dialectOf(db) !== 'postgres' ? group : undefined;
    this.prepares = new CoalescedWrites((runs) => (writer ? writer.run((tx) => writePrepared(executorOf(tx), runs.flat())) : writePrepared(db, runs.flat())));
    this.records = new CoalescedWrites((runs) => {
      const sent = runs.flatMap((r) => r.sent);
      const jobIds = runs.flatMap((r) => r.jobIds);
      return writer ? writer.run((tx) => writeSent(executorOf(tx), sent, jobIds)) : writeSent(db, sent, jobIds);
    });
  }

  async load(conversationId: number, eventIds: Array<number | null>): Promise<LoadedRelay[]> {
    const { db } = this;
    const facts = dialectOf(db) === 'postgres' ? await this.reads.run({ conversationId, eventIds }) : await readRun(db, conversationId, eventIds);
    const { relays, conversation, events, keys, attachments } = facts;
    const related = await relatedMessages(db, conversationId, [...events.values()]);
    return eventIds.map((id): LoadedRelay => {
      const relay = relays.get(id);
      if (relay) return { kind: 'existing', relay };
      if (!conversation) return { kind: 'missing', reason: `conversation ${conversationId} is not in the store` };
      if (id === null) return { kind: 'new', facts: { conversation, event: null, previous: [], attachmentRows: [] } };
      const event = events.get(id);
      if (!event) return { kind: 'missing', reason: `event ${id} is not in the store` };
      const previous = keys.filter((k) => k.seq < event.seq).slice(-REFERENCES_DEPTH);
      const relatedId = relatedWaMessageId(event.event);
      const quoted = relatedId === undefined ? undefined : related.get(relatedId);
      return { kind: 'new', facts: { conversation, event, previous, attachmentRows: attachments.get(id) ?? [], ...(quoted ? { related: quoted } : {}) } };
    });
  }

  prepare(relays: PreparedRelay[]): Promise<void> {
    return this.prepares.write(relays);
  }

  record(sent: SentMail[], jobIds: number[]): Promise<void> {
    return this.records.write({ sent, jobIds });
  }
}

type SentMail = { mailMessageId: string; sentAt: number; response: string };
interface RunRecord {
  sent: SentMail[];
  jobIds: number[];
}

/** Records mails as prepared, all or none. */
async function writePrepared(db: Executor, relays: readonly PreparedRelay[]): Promise<void> {
  if (relays.length === 0) return;
  if (dialectOf(db) === 'postgres') return prepareRelaysAtOnce(db, relays);
  await allOrNone(db, (trx) => prepareRelays(trx, relays));
}

/** Marks mails sent and deletes their finished jobs, all or none. */
async function writeSent(db: Executor, sent: readonly SentMail[], jobIds: readonly number[]): Promise<void> {
  if (sent.length === 0 && jobIds.length === 0) return;
  if (dialectOf(db) === 'postgres') return recordSentAtOnce(db, sent, jobIds);
  await allOrNone(db, async (trx) => {
    for (const s of sent) await markRelaySent(trx, s.mailMessageId, s.sentAt, s.response);
    if (jobIds.length > 0) await trx.deleteFrom('outbox_jobs').where('id', 'in', [...jobIds]).execute();
  });
}

/** `write` in a transaction of its own, or in the one `db` already is. */
function allOrNone(db: Executor, write: (trx: Executor) => Promise<void>): Promise<void> {
  return db.isTransaction ? write(db) : db.transaction().execute(write);
}

/** What a run's mails are built from: see SqlRelayRuns.load. */
interface RunFacts {
  /** The relays already recorded, by event id (null: the cover mail). */
  relays: Map<number | null, RelayRecord>;
  conversation: ConversationRecord | undefined;
  /** The run's events of this conversation that have no relay yet, by id. */
  events: Map<number, EventRecord>;
  /** The keys of the REFERENCES_DEPTH events before each of `events`, oldest first (see keysBefore). */
  keys: EventKey[];
  attachments: Map<number, AttachmentRecord[]>;
}

async function readRun(db: Executor, conversationId: number, eventIds: Array<number | null>): Promise<RunFacts> {
  const relayRows = await db
    .selectFrom('mail_relays')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where(sql<number>`coalesce(event_id, 0)`, 'in', eventIds.map((id) => id ?? 0))
    .execute();
  const relays = new Map(relayRows.map((row) => [row.event_id, toRelay(row)]));
  const events = new Map<number, EventRecord>();
  const wanted = eventIds.filter((id) => !relays.has(id));
  if (wanted.length === 0) return { relays, conversation: undefined, events, keys: [], attachments: new Map() };

  const conversationRow = await db.selectFrom('conversations').selectAll().where('id', '=', conversationId).executeTakeFirst();
  const ids = wanted.filter((id): id is number => id !== null);
  if (ids.length > 0) {
    for (const row of await db.selectFrom('events').selectAll().where('id', 'in', ids).execute()) {
      if (row.conversation_id === conversationId) events.set(row.id, toEvent(row));
    }
  }
  const found = [...events.values()];
  const keys = found.length > 0 ? await keysBefore(db, conversationId, found) : [];
  const attachmentRows = found.length > 0 ? await db.selectFrom('attachments').selectAll().where('event_id', 'in', found.map((e) => e.id)).orderBy('event_id').orderBy('ordinal').execute() : [];
  return { relays, conversation: conversationRow ? toConversation(conversationRow) : undefined, events, keys, attachments: byEvent(attachmentRows.map(toAttachment)) };
}

interface RunRequest {
  conversationId: number;
  eventIds: Array<number | null>;
}

type RunRow = {
  conversation_id: number;
  relays: Array<Selectable<MailRelaysTable>>;
  conversation: Selectable<ConversationsTable> | null;
  events: Array<Selectable<EventsTable>>;
  keys: Array<{ seq: number; channel: string; wa_message_id: string; kind: string; version_key: string }>;
  attachments: Array<Selectable<AttachmentsTable>>;
};

/**
 * readRun for several runs in one statement (PostgreSQL), one row per conversation with each
 * table's rows as a JSON array: the same rows, read in one snapshot. A conversation's keys are
 * keysBefore's, the newest below its last event, as many as its events span plus REFERENCES_DEPTH.
 */
async function readRunsAtOnce(db: Executor, requests: readonly RunRequest[]): Promise<RunFacts[]> {
  const pairs = requests.flatMap((r) => r.eventIds.map((id) => [r.conversationId, id ?? 0] as const));
  const result = await sql<RunRow>`
    WITH req AS (
      SELECT DISTINCT r.conversation_id, r.event_id FROM unnest(${pairs.map((p) => p[0])}::bigint[], ${pairs.map((p) => p[1])}::bigint[]) AS r (conversation_id, event_id)
    ), relays AS (
      SELECT m.* FROM mail_relays m JOIN req ON m.conversation_id = req.conversation_id AND coalesce(m.event_id, 0) = req.event_id
    ), found AS (
      SELECT e.* FROM events e JOIN req ON e.id = req.event_id AND e.conversation_id = req.conversation_id
      WHERE NOT EXISTS (SELECT 1 FROM relays WHERE relays.event_id = e.id)
    ), spans AS (
      SELECT c.conversation_id, f.first_seq, f.last_seq
      FROM (SELECT DISTINCT conversation_id FROM unnest(${requests.map((r) => r.conversationId)}::bigint[]) AS c (conversation_id)) c
      LEFT JOIN LATERAL (SELECT min(seq) AS first_seq, max(seq) AS last_seq FROM found WHERE found.conversation_id = c.conversation_id) f ON true
    )
    SELECT
      s.conversation_id,
      (SELECT coalesce(json_agg(r ORDER BY r.id), '[]'::json) FROM relays r WHERE r.conversation_id = s.conversation_id) AS relays,
      (SELECT row_to_json(c) FROM conversations c WHERE c.id = s.conversation_id) AS conversation,
      (SELECT coalesce(json_agg(e ORDER BY e.seq), '[]'::json) FROM found e WHERE e.conversation_id = s.conversation_id) AS events,
      (SELECT coalesce(json_agg(k ORDER BY k.seq), '[]'::json) FROM (
        SELECT seq, channel, wa_message_id, kind, version_key FROM events
        WHERE conversation_id = s.conversation_id AND seq < s.last_seq
        ORDER BY seq DESC
        LIMIT ${REFERENCES_DEPTH}::bigint + coalesce(s.last_seq - s.first_seq, 0)
      ) k) AS keys,
      (SELECT coalesce(json_agg(a ORDER BY a.event_id, a.ordinal), '[]'::json) FROM attachments a
        WHERE a.event_id IN (SELECT id FROM found f WHERE f.conversation_id = s.conversation_id)) AS attachments
    FROM spans s`.execute(db);
  const byConversation = new Map(result.rows.map((row) => [row.conversation_id, row]));
  return requests.map((request) => {
    const row = byConversation.get(request.conversationId);
    if (!row) throw new Error(`the run read returned nothing for conversation ${request.conversationId}`);
    return toRunFacts(row);
  });
}

function toRunFacts(row: RunRow): RunFacts {
  return {
    relays: new Map(row.relays.map((r) => [r.event_id, toRelay(r)])),
    conversation: row.conversation ? toConversation(row.conversation) : undefined,
    events: new Map(row.events.map((e) => [e.id, toEvent(e)])),
    keys: row.keys.map((k) => ({ seq: k.seq, channel: k.channel as ChannelKind, waMessageId: k.wa_message_id, kind: k.kind as EventKind, versionKey: k.version_key })),
    attachments: byEvent(row.attachments.map(toAttachment)),
  };
}

function byEvent(records: AttachmentRecord[]): Map<number, AttachmentRecord[]> {
  const out = new Map<number, AttachmentRecord[]>();
  for (const record of records) out.set(record.eventId, [...(out.get(record.eventId) ?? []), record]);
  return out;
}

// On PostgreSQL every statement is a round trip, so a run's writes go as one statement each (its
// WITH parts and main part commit or fail together, as the transaction around them did): the
// rows travel as arrays, one per column, and unnest turns them back into rows in their order.
// SQLite runs the same writes as function calls, where one statement per row costs nothing.

/** prepareRelays in one statement (PostgreSQL): the blobs, then the relays in the order given. */
async function prepareRelaysAtOnce(db: Executor, relays: readonly PreparedRelay[]): Promise<void> {
  await sql`
    WITH stored_blobs AS (
      INSERT INTO blobs (sha256, size, created_at, content)
      SELECT b.sha256, b.size, b.created_at, b.content
      FROM unnest(
        ${relays.map((r) => r.rawSha256)}::text[], ${relays.map((r) => r.rawSize)}::bigint[], ${relays.map((r) => r.preparedAt)}::bigint[],
        ${relays.map((r) => r.inline ?? null)}::bytea[]
      ) WITH ORDINALITY AS b (sha256, size, created_at, content, n)
      ORDER BY b.n
      ON CONFLICT (sha256) DO NOTHING
    )
    INSERT INTO mail_relays (conversation_id, event_id, mail_message_id, raw_sha256, state, prepared_at, sent_at, response)
    SELECT r.conversation_id, r.event_id, r.mail_message_id, r.raw_sha256, 'prepared', r.prepared_at, NULL, NULL
    FROM unnest(
      ${relays.map((r) => r.conversationId)}::bigint[], ${relays.map((r) => r.eventId)}::bigint[], ${relays.map((r) => r.mailMessageId)}::text[],
      ${relays.map((r) => r.rawSha256)}::text[], ${relays.map((r) => r.preparedAt)}::bigint[]
    ) WITH ORDINALITY AS r (conversation_id, event_id, mail_message_id, raw_sha256, prepared_at, n)
    ORDER BY r.n`.execute(db);
}

/** The mails sent marked so and the finished jobs deleted, in one statement (PostgreSQL). */
async function recordSentAtOnce(db: Executor, sent: readonly SentMail[], jobIds: readonly number[]): Promise<void> {
  await sql`
    WITH marked AS (
      UPDATE mail_relays SET state = 'sent', sent_at = s.sent_at, response = s.response
      FROM unnest(${sent.map((s) => s.mailMessageId)}::text[], ${sent.map((s) => s.sentAt)}::bigint[], ${sent.map((s) => s.response)}::text[]) AS s (mail_message_id, sent_at, response)
      WHERE mail_relays.mail_message_id = s.mail_message_id
    )
    DELETE FROM outbox_jobs WHERE id = ANY (${[...jobIds]}::bigint[])`.execute(db);
}

/**
 * The keys of the REFERENCES_DEPTH events before each of `events`, in one query: the newest
 * keys below the run's last event, as many as the run spans plus the depth (seq is unique per
 * conversation, so that many always reach REFERENCES_DEPTH below the run's first event).
 */
async function keysBefore(db: Executor, conversationId: number, events: EventRecord[]): Promise<EventKey[]> {
  const seqs = events.map((e) => e.seq);
  const first = Math.min(...seqs);
  const last = Math.max(...seqs);
  return listEventKeysBefore(db, conversationId, last, REFERENCES_DEPTH + (last - first));
}

/** The newest stored message for each WhatsApp id the events quote or act on. */
function relatedMessages(db: Executor, conversationId: number, events: EventRecord[]): Promise<Map<string, EventRecord>> {
  return latestMessagesByWaId(db, conversationId, [...new Set(events.flatMap((e) => relatedWaMessageId(e.event) ?? []))]);
}
