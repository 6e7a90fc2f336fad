import type { Selectable } from 'kysely';
import type { AttachmentRecord } from '../core/records.js';
import { documentKind } from '../core/documents.js';
import type { Executor } from './executor.js';
import type { AttachmentsTable } from './schema.js';

export function toAttachment(row: Selectable<AttachmentsTable>): AttachmentRecord {
  return {
    id: row.id,
    eventId: row.event_id,
    ordinal: row.ordinal,
    waMediaId: row.wa_media_id,
    mimeType: row.mime_type,
    fileName: row.file_name,
    announcedSha256: row.announced_sha256,
    sha256: row.sha256,
    size: row.size,
  };
}

export async function insertAttachment(db: Executor, a: Omit<AttachmentRecord, 'id' | 'sha256' | 'size'>): Promise<AttachmentRecord> {
  const row = await db
    .insertInto('attachments')
    .values({
      event_id: a.eventId,
      ordinal: a.ordinal,
      wa_media_id: a.waMediaId,
      mime_type: a.mimeType,
      file_name: a.fileName,
      announced_sha256: a.announcedSha256,
      sha256: null,
      size: null,
      fetched_at: null,
      // A document is read for search once its bytes are stored (search/document-indexer.ts).
      text_state: documentKind(a.mimeType, a.fileName) ? 'pending' : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toAttachment(row);
}

export async function getAttachment(db: Executor, id: number): Promise<AttachmentRecord | undefined> {
  const row = await db.selectFrom('attachments').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toAttachment(row) : undefined;
}

export async function listAttachments(db: Executor, eventId: number): Promise<AttachmentRecord[]> {
  const rows = await db.selectFrom('attachments').selectAll().where('event_id', '=', eventId).orderBy('ordinal').execute();
  return rows.map(toAttachment);
}

/** Records the stored blob for an attachment (and the blob itself, once). */
export async function setAttachmentBlob(db: Executor, id: number, sha256: string, size: number, now: number): Promise<void> {
  await db.insertInto('blobs').values({ sha256, size, created_at: now }).onConflict((oc) => oc.column('sha256').doNothing()).execute();
  await db.updateTable('attachments').set({ sha256, size, fetched_at: now }).where('id', '=', id).execute();
}
