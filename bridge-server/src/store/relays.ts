import type { Selectable } from 'kysely';
import type { RelayRecord } from '../core/records.js';
import type { Executor } from './executor.js';
import type { MailRelaysTable } from './schema.js';

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

export async function prepareRelay(db: Executor, r: Omit<RelayRecord, 'state' | 'sentAt' | 'response'>, rawSize: number): Promise<void> {
  await db.insertInto('blobs').values({ sha256: r.rawSha256, size: rawSize, created_at: r.preparedAt }).onConflict((oc) => oc.column('sha256').doNothing()).execute();
  await db
    .insertInto('mail_relays')
    .values({
      conversation_id: r.conversationId,
      event_id: r.eventId,
      mail_message_id: r.mailMessageId,
      raw_sha256: r.rawSha256,
      state: 'prepared',
      prepared_at: r.preparedAt,
      sent_at: null,
      response: null,
    })
    .execute();
}

export async function markRelaySent(db: Executor, mailMessageId: string, sentAt: number, response: string): Promise<void> {
  await db.updateTable('mail_relays').set({ state: 'sent', sent_at: sentAt, response }).where('mail_message_id', '=', mailMessageId).execute();
}

export async function listRelays(db: Executor, conversationId: number): Promise<RelayRecord[]> {
  const rows = await db.selectFrom('mail_relays').selectAll().where('conversation_id', '=', conversationId).orderBy('id').execute();
  return rows.map(toRelay);
}
