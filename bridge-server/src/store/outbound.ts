import type { OutboundCommand } from '../core/commands.js';
import { deliveryRank, parsePartCallback, type DeliveryStatus, type OutboundRecord, type OutboundState } from '../core/records.js';
import type { Executor } from './executor.js';

/** Stores a command once per source (the same email delivered twice is one command). */
export async function insertOutbound(db: Executor, command: OutboundCommand, now: number): Promise<{ id: number; created: boolean }> {
  const inserted = await db
    .insertInto('outbound_commands')
    .values({
      conversation_id: command.conversationId,
      command_json: JSON.stringify(command),
      source_kind: command.source.kind,
      source_ref: command.source.ref,
      error_code: null,
      error_message: null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['source_kind', 'source_ref']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, created: true };
  const existing = await db
    .selectFrom('outbound_commands')
    .select('id')
    .where('source_kind', '=', command.source.kind)
    .where('source_ref', '=', command.source.ref)
    .executeTakeFirstOrThrow();
  return { id: existing.id, created: false };
}

export async function getOutbound(db: Executor, id: number): Promise<OutboundRecord | undefined> {
  const row = await db.selectFrom('outbound_commands').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const parts = await db.selectFrom('outbound_parts').selectAll().where('command_id', '=', id).orderBy('part_index').execute();
  return {
    id: row.id,
    conversationId: row.conversation_id,
    command: JSON.parse(row.command_json) as OutboundCommand,
    state: row.state as OutboundState,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    parts: parts.map((p) => ({ index: p.part_index, waMessageId: p.wa_message_id, status: p.status as DeliveryStatus, statusAt: p.status_at, sentAt: p.sent_at })),
  };
}

export async function addOutboundPart(db: Executor, commandId: number, index: number, waMessageId: string, sentAt: number): Promise<void> {
  await db
    .insertInto('outbound_parts')
    .values({ command_id: commandId, part_index: index, wa_message_id: waMessageId, status_at: sentAt, sent_at: sentAt })
    .onConflict((oc) => oc.column('wa_message_id').doNothing())
    .execute();
}

/** Whether a WhatsApp message is already recorded as a part of some reply. */
export async function isOutboundPart(db: Executor, waMessageId: string): Promise<boolean> {
  const row = await db.selectFrom('outbound_parts').select('id').where('wa_message_id', '=', waMessageId).executeTakeFirst();
  return row !== undefined;
}

export async function setOutboundState(db: Executor, id: number, state: OutboundState, now: number, error?: { code: string; message: string }): Promise<void> {
  await db
    .updateTable('outbound_commands')
    .set({ state, updated_at: now, error_code: error?.code ?? null, error_message: error?.message ?? null })
    .where('id', '=', id)
    .execute();
}

/** Where a status may belong: the WhatsApp id it names, and what the send put in `biz_opaque_callback_data`. */
export interface StatusTarget {
  waMessageId: string;
  channel: string;
  callbackData?: string | undefined;
  recipientId?: string | undefined;
}

/**
 * Applies a delivery status to the part it concerns, only if it moves the status forward. The
 * part is found by its WhatsApp id; when no part has that id, by the callback data the send
 * carried (`reply:<command>:<part>`), provided the part's chat is on the status's channel and,
 * when the status names a recipient, with that client. Returns the command it belongs to and
 * whether anything changed; undefined when the status is not about one of ours (a message sent
 * from the phone, say, or a part whose send is not recorded yet).
 */
export async function applyDeliveryStatus(
  db: Executor,
  target: StatusTarget,
  status: DeliveryStatus,
  at: number,
): Promise<{ commandId: number; conversationId: number; changed: boolean } | undefined> {
  const parts = db
    .selectFrom('outbound_parts')
    .innerJoin('outbound_commands', 'outbound_commands.id', 'outbound_parts.command_id')
    .select(['outbound_parts.id as id', 'outbound_parts.command_id as commandId', 'outbound_parts.status_rank as rank', 'outbound_commands.conversation_id as conversationId']);
  let part = await parts.where('outbound_parts.wa_message_id', '=', target.waMessageId).executeTakeFirst();
  const callback = part ? undefined : parsePartCallback(target.callbackData);
  if (callback) {
    const found = await parts
      .innerJoin('conversations', 'conversations.id', 'outbound_commands.conversation_id')
      .select(['conversations.channel as channel', 'conversations.client_wa_id as waId', 'conversations.client_user_id as userId'])
      .where('outbound_parts.command_id', '=', callback.commandId)
      .where('outbound_parts.part_index', '=', callback.index)
      .executeTakeFirst();
    const recipientMatches = !target.recipientId || target.recipientId === found?.waId || target.recipientId === found?.userId;
    if (found && found.channel === target.channel && recipientMatches) part = found;
  }
  if (!part) return undefined;
  const rank = deliveryRank[status];
  if (rank <= part.rank) return { commandId: part.commandId, conversationId: part.conversationId, changed: false };
  await db.updateTable('outbound_parts').set({ status, status_rank: rank, status_at: at }).where('id', '=', part.id).execute();
  return { commandId: part.commandId, conversationId: part.conversationId, changed: true };
}

/** WhatsApp time of the client's newest message in the chat (opens the 24-hour window). */
export async function lastInboundAt(db: Executor, conversationId: number): Promise<number | null> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('wa_timestamp').as('at'))
    .where('conversation_id', '=', conversationId)
    .where('direction', '=', 'inbound')
    .where('kind', '=', 'message')
    .executeTakeFirst();
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}
