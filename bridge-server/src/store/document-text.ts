import { sql, type ExpressionBuilder } from 'kysely';
import type { DocumentText } from '../core/documents.js';
import { dialectOf, rowLimit } from './dialect.js';
import type { Executor } from './executor.js';
import type { Database } from './schema.js';

/** A stored document waiting to be read for search. */
export interface WaitingDocument {
  attachmentId: number;
  eventId: number;
  sha256: string;
  mimeType: string;
  fileName: string | null;
}

/** How long a reading may go before another instance takes the document over (the reader gives up long before). */
export const READING_TAKEN_OVER_AFTER_MS = 10 * 60_000;

const working = (at: number) => `working:${at}`;

/**
 * A document waiting or being read: the condition of the partial index attachments_text_waiting,
 * written as literals, since SQLite uses a partial index only for a condition it can see implies
 * the index's (with the states as bound parameters it read the whole table, every 5 s).
 */
const waiting = (eb: ExpressionBuilder<Database, 'attachments'>) => eb.or([eb('text_state', '=', sql.lit('pending')), eb('text_state', 'like', sql.lit('working:%'))]);

/**
 * Takes up to `limit` stored documents that wait to be read (or whose reader stopped more than
 * READING_TAKEN_OVER_AFTER_MS ago), oldest first, marking each as being read by the caller: an
 * instance sharing the store takes none of them meanwhile.
 */
export async function takeWaitingDocuments(db: Executor, now: number, limit: number): Promise<WaitingDocument[]> {
  const rows = await db
    .selectFrom('attachments')
    .select(['id', 'event_id', 'sha256', 'mime_type', 'file_name', 'text_state'])
    .where(waiting)
    .where('sha256', 'is not', null)
    .orderBy('id')
    .limit(rowLimit(db, limit * 4))
    .execute();
  const taken: WaitingDocument[] = [];
  for (const row of rows) {
    if (taken.length >= limit) break;
    const state = row.text_state!;
    if (state !== 'pending' && now - Number(state.slice('working:'.length)) < READING_TAKEN_OVER_AFTER_MS) continue;
    const claimed = await db.updateTable('attachments').set({ text_state: working(now) }).where('id', '=', row.id).where('text_state', '=', state).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 1) taken.push({ attachmentId: row.id, eventId: row.event_id, sha256: row.sha256!, mimeType: row.mime_type, fileName: row.file_name });
  }
  return taken;
}

/** Gives documents taken at `takenAt` and not read back to the waiting (the bridge is stopping). */
export async function releaseDocuments(db: Executor, documents: readonly WaitingDocument[], takenAt: number): Promise<void> {
  if (documents.length === 0) return;
  await db
    .updateTable('attachments')
    .set({ text_state: 'pending' })
    .where('id', 'in', documents.map((document) => document.attachmentId))
    .where('text_state', '=', working(takenAt))
    .execute();
}

/**
 * Adds a document's text to its message's search entry and marks the document indexed, in one
 * transaction; or marks it as having none, with the reason. A document no longer marked as being
 * read since `takenAt` (its message erased meanwhile, say) is left as it is. The text only ever
 * joins an entry that is there: an erasure running beside this deletes the entry either before
 * (nothing is then written) or after (the text goes with it), never leaving text behind.
 */
export async function recordDocumentText(db: Executor, document: WaitingDocument, takenAt: number, result: DocumentText): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const still = await tx.selectFrom('attachments').select('id').where('id', '=', document.attachmentId).where('text_state', '=', working(takenAt)).executeTakeFirst();
    if (!still) return;
    let state = result.state === 'indexed' ? 'indexed' : `none: ${result.reason}`;
    if (result.state === 'indexed' && !(await appendToSearchEntry(tx, document.eventId, result.text))) state = 'none: its message has no search entry';
    await tx.updateTable('attachments').set({ text_state: state.slice(0, 300) }).where('id', '=', document.attachmentId).execute();
  });
}

/** Whether the event's search entry was there to take the text. */
async function appendToSearchEntry(tx: Executor, eventId: number, text: string): Promise<boolean> {
  const updated =
    dialectOf(tx) === 'postgres'
      ? await sql`UPDATE message_search SET body = body || ' ' || ${text}, document = to_tsvector('simple', unaccent(body || ' ' || ${text})) WHERE rowid = ${eventId}`.execute(tx)
      : await sql`UPDATE message_search SET body = body || ' ' || ${text} WHERE rowid = ${eventId}`.execute(tx);
  return Number(updated.numAffectedRows ?? 0) > 0;
}

/** Stored documents waiting to be read for search (those being read included). */
export async function countWaitingDocuments(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('attachments')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where(waiting)
    .where('sha256', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** For each of these events, the file names of its documents whose text is in its search entry. */
export async function searchedDocuments(db: Executor, eventIds: readonly number[]): Promise<Map<number, string[]>> {
  const byEvent = new Map<number, string[]>();
  if (eventIds.length === 0) return byEvent;
  const rows = await db.selectFrom('attachments').select(['event_id', 'file_name']).where('event_id', 'in', [...eventIds]).where('text_state', '=', 'indexed').orderBy('event_id').orderBy('ordinal').execute();
  for (const row of rows) byEvent.set(row.event_id, [...(byEvent.get(row.event_id) ?? []), row.file_name ?? 'a document']);
  return byEvent;
}

/** A document whose text could not be read, with where it is and why (newest first). */
export interface UnreadDocumentRow {
  attachmentId: number;
  conversationId: number;
  chatToken: string;
  clientName: string | null;
  eventId: number;
  fileName: string | null;
  timestamp: number;
  reason: string;
}

/** The newest `limit` documents whose text could not be read for search. */
export async function listUnreadDocuments(db: Executor, limit: number): Promise<UnreadDocumentRow[]> {
  const rows = await db
    .selectFrom('attachments as a')
    .innerJoin('events as e', 'e.id', 'a.event_id')
    .innerJoin('conversations as c', 'c.id', 'e.conversation_id')
    .select(['a.id', 'a.file_name', 'a.text_state', 'e.id as event_id', 'e.wa_timestamp', 'c.id as conversation_id', 'c.chat_token', 'c.client_name'])
    .where('a.text_state', 'like', sql.lit('none:%'))
    .orderBy('a.id', 'desc')
    .limit(rowLimit(db, limit))
    .execute();
  return rows.map((row) => ({
    attachmentId: row.id,
    conversationId: row.conversation_id,
    chatToken: row.chat_token,
    clientName: row.client_name,
    eventId: row.event_id,
    fileName: row.file_name,
    timestamp: row.wa_timestamp,
    reason: row.text_state!.slice('none:'.length).trim(),
  }));
}
