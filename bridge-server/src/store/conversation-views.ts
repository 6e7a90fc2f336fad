import { sql, type Selectable } from 'kysely';
import type { ConversationScope } from '../core/access.js';
import type { ConversationRecord } from '../core/records.js';
import { toConversation } from './conversations.js';
import type { Executor } from './executor.js';
import type { ConversationsTable } from './schema.js';
import { jsonText } from './dialect.js';
import { visibleConversationSql } from './scope.js';

/** Read models for the API's conversation list and view. */
export interface ConversationListRow {
  conversation: ConversationRecord;
  /** WhatsApp time of the newest event (or the opening time before any). */
  lastActivityAt: number;
}

export interface ListFilter {
  matterId?: number;
  unlinked?: boolean;
  after?: { at: number; id: number };
  limit: number;
}

/** Conversations in the scope, most recently active first, keyset-paged by (activity, id). */
export async function listConversationsIn(db: Executor, scope: ConversationScope, filter: ListFilter): Promise<ConversationListRow[]> {
  if (scope.kind === 'none') return [];
  const visible = visibleConversationSql(scope, sql.ref('c.id'));
  const matter = filter.matterId === undefined ? sql`1 = 1` : sql`EXISTS (SELECT 1 FROM matter_links ml WHERE ml.conversation_id = c.id AND ml.unlinked_at IS NULL AND ml.matter_id = ${filter.matterId})`;
  const unlinked =
    filter.unlinked === undefined
      ? sql`1 = 1`
      : sql`${sql.raw(filter.unlinked ? 'NOT ' : '')}EXISTS (SELECT 1 FROM matter_links ul WHERE ul.conversation_id = c.id AND ul.unlinked_at IS NULL)`;
  const after = filter.after ? sql`(activity < ${filter.after.at} OR (activity = ${filter.after.at} AND id < ${filter.after.id}))` : sql`1 = 1`;
  const result = await sql<Selectable<ConversationsTable> & { activity: number }>`
    SELECT * FROM (
      SELECT c.*, coalesce((SELECT e.wa_timestamp FROM events e WHERE e.conversation_id = c.id AND e.seq = c.last_seq), c.opened_at) AS activity
      FROM conversations c
      WHERE ${visible} AND ${matter} AND ${unlinked}
    ) AS listed WHERE ${after}
    ORDER BY activity DESC, id DESC
    LIMIT ${filter.limit}`.execute(db);
  return result.rows.map((row) => ({ conversation: toConversation(row), lastActivityAt: Number(row.activity) }));
}

export async function lastActivityAt(db: Executor, conversation: ConversationRecord): Promise<number> {
  const row = await db.selectFrom('events').select('wa_timestamp').where('conversation_id', '=', conversation.id).where('seq', '=', conversation.lastSeq).executeTakeFirst();
  return row?.wa_timestamp ?? conversation.openedAt;
}

/** WhatsApp ids of messages later edited or deleted in this conversation. */
export async function changedMessageIds(db: Executor, conversationId: number): Promise<{ edited: Set<string>; deleted: Set<string> }> {
  const rows = await sql<{ kind: string; target: string | null }>`
    SELECT kind, ${jsonText(db, 'event_json', 'targetWaMessageId')} AS target FROM events
    WHERE conversation_id = ${conversationId} AND kind IN ('edit', 'deletion')`.execute(db);
  const edited = new Set<string>();
  const deleted = new Set<string>();
  for (const row of rows.rows) if (row.target) (row.kind === 'edit' ? edited : deleted).add(row.target);
  return { edited, deleted };
}

/** Delivery status of sent reply parts, by WhatsApp id. */
export async function deliveryOf(db: Executor, waMessageIds: string[]): Promise<Map<string, { status: string; at: number }>> {
  if (waMessageIds.length === 0) return new Map();
  const rows = await db.selectFrom('outbound_parts').select(['wa_message_id', 'status', 'status_at']).where('wa_message_id', 'in', waMessageIds).execute();
  return new Map(rows.map((row) => [row.wa_message_id, { status: row.status, at: row.status_at }]));
}

export interface PendingReplyRow {
  id: number;
  state: string;
  commandJson: string;
  createdAt: number;
  errorCode: string | null;
  errorMessage: string | null;
}

/** Replies not yet a WhatsApp message: queued, or failed before any part was sent. */
export async function listPendingReplies(db: Executor, conversationId: number): Promise<PendingReplyRow[]> {
  const rows = await db
    .selectFrom('outbound_commands')
    .select(['id', 'state', 'command_json', 'created_at', 'error_code', 'error_message'])
    .where('conversation_id', '=', conversationId)
    .where('state', 'in', ['queued', 'failed'])
    .where((eb) => eb.not(eb.exists(eb.selectFrom('outbound_parts').select('outbound_parts.id').whereRef('outbound_parts.command_id', '=', 'outbound_commands.id'))))
    .orderBy('id')
    .limit(50)
    .execute();
  return rows.map((row) => ({ id: row.id, state: row.state, commandJson: row.command_json, createdAt: row.created_at, errorCode: row.error_code, errorMessage: row.error_message }));
}
