import { sql } from 'kysely';
import { dialectOf } from './dialect.js';
import type { Executor } from './executor.js';

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
 * Takes up to `limit` stored documents that wait to be read (or whose reader stopped more than
 * READING_TAKEN_OVER_AFTER_MS ago), oldest first, marking each as being read by the caller: an
 * instance sharing the store takes none of them meanwhile.
 */
export async function takeWaitingDocuments(db: Executor, now: number, limit: number): Promise<WaitingDocument[]> {
  const rows = await db
    .selectFrom('attachments')
    .select(['id', 'event_id', 'sha256', 'mime_type', 'file_name', 'text_state'])
    .where((eb) => eb.or([eb('text_state', '=', 'pending'), eb('text_state', 'like', 'working:%')]))
    .where('sha256', 'is not', null)
    .orderBy('id')
    .limit(limit * 4)
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

/**
 * Adds a document's text to its message's search entry (made when there is none, as long as the
 * message is still in the store) and marks the document indexed, in one transaction; or marks it
 * as having none, with the reason. A document no longer marked as being read since `takenAt` (its
 * message erased meanwhile, say) is left as it is.
 */
export async function recordDocumentText(db: Executor, document: WaitingDocument, takenAt: number, result: { state: 'indexed'; text: string } | { state: 'none'; reason: string }): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const still = await tx.selectFrom('attachments').select('id').where('id', '=', document.attachmentId).where('text_state', '=', working(takenAt)).executeTakeFirst();
    if (!still) return;
    if (result.state === 'indexed') await appendToSearchEntry(tx, document.eventId, result.text);
    const state = result.state === 'indexed' ? 'indexed' : `none: ${result.reason}`.slice(0, 300);
    await tx.updateTable('attachments').set({ text_state: state }).where('id', '=', document.attachmentId).execute();
  });
}

async function appendToSearchEntry(tx: Executor, eventId: number, text: string): Promise<void> {
  if (dialectOf(tx) === 'postgres') {
    const updated = await sql`UPDATE message_search SET body = body || ' ' || ${text}, document = to_tsvector('simple', unaccent(body || ' ' || ${text})) WHERE rowid = ${eventId}`.execute(tx);
    if (Number(updated.numAffectedRows ?? 0) > 0) return;
    await sql`INSERT INTO message_search (rowid, body, document, conversation_id)
      SELECT id, ${text}, to_tsvector('simple', unaccent(${text})), conversation_id FROM events WHERE id = ${eventId}`.execute(tx);
    return;
  }
  const updated = await sql`UPDATE message_search SET body = body || ' ' || ${text} WHERE rowid = ${eventId}`.execute(tx);
  if (Number(updated.numAffectedRows ?? 0) > 0) return;
  await sql`INSERT INTO message_search (rowid, body, conversation) SELECT id, ${text}, CAST(conversation_id AS TEXT) FROM events WHERE id = ${eventId}`.execute(tx);
}
