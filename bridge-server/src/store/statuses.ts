import type { StatusEvent } from '../core/events.js';
import type { Executor } from './executor.js';

/** Stores a delivery status once per (message, status); redelivery returns false. */
export async function insertStatus(db: Executor, tenant: string, s: StatusEvent, now: number): Promise<boolean> {
  const result = await db
    .insertInto('statuses')
    .values({
      tenant,
      channel: s.channel,
      wa_message_id: s.waMessageId,
      status: s.status,
      wa_timestamp: s.timestamp,
      recipient_id: s.recipientId ?? null,
      callback_data: s.callbackData ?? null,
      status_json: JSON.stringify(s),
      received_at: now,
    })
    .onConflict((oc) => oc.columns(['tenant', 'channel', 'wa_message_id', 'status']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The statuses stored for one WhatsApp message, oldest first (to apply those that came before its send was recorded). */
export async function listStatuses(db: Executor, tenant: string, channel: string, waMessageId: string): Promise<StatusEvent[]> {
  const rows = await db
    .selectFrom('statuses')
    .select('status_json')
    .where('tenant', '=', tenant)
    .where('channel', '=', channel)
    .where('wa_message_id', '=', waMessageId)
    .orderBy('id')
    .execute();
  return rows.map((row) => JSON.parse(row.status_json) as StatusEvent);
}

/**
 * The WhatsApp message a status names when it carries `callbackData` (what a reply's part is sent
 * with), and the time of its earliest status: how a part WhatsApp took, whose answer the bridge
 * never recorded, is found again. Undefined when no such status came.
 */
export async function findByCallback(db: Executor, tenant: string, channel: string, callbackData: string): Promise<{ waMessageId: string; timestamp: number } | undefined> {
  const row = await db
    .selectFrom('statuses')
    .select(['wa_message_id', 'wa_timestamp'])
    .where('tenant', '=', tenant)
    .where('channel', '=', channel)
    .where('callback_data', '=', callbackData)
    .orderBy('wa_timestamp')
    .orderBy('id')
    .executeTakeFirst();
  return row ? { waMessageId: row.wa_message_id, timestamp: Number(row.wa_timestamp) } : undefined;
}
