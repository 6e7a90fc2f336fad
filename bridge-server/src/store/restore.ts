import type { Kysely, Selectable } from 'kysely';
import type { Executor } from './executor.js';
import type { AttachmentsTable, ConversationsTable, EventsTable, MailRelaysTable, OutboundCommandsTable, OutboundPartsTable, StatusesTable } from './schema.js';

/**
 * Copying one conversation's rows from a backup's database into a live one. Row ids of the live
 * store are its own: events and commands get fresh ids and every reference to them is mapped;
 * the conversation keeps its old id when that is free.
 */

interface ImportsTable {
  id: number;
  conversation_id: number;
  [column: string]: unknown;
}
type WithImports = Kysely<{ imports: ImportsTable }>;
const importsOf = (db: Executor): WithImports => db.withTables<{ imports: ImportsTable }>() as unknown as WithImports;

export interface ConversationRows {
  conversation: Selectable<ConversationsTable>;
  events: Array<Selectable<EventsTable>>;
  attachments: Array<Selectable<AttachmentsTable>>;
  relays: Array<Selectable<MailRelaysTable>>;
  commands: Array<Selectable<OutboundCommandsTable>>;
  parts: Array<Selectable<OutboundPartsTable>>;
  statuses: Array<Selectable<StatusesTable>>;
  links: Array<{ reference: string; linked_at: number; linked_by: string; unlinked_at: number | null; unlinked_by: string | null }>;
  imports: ImportsTable[];
}

export async function readConversationRows(db: Executor, chatToken: string): Promise<ConversationRows | undefined> {
  const conversation = await db.selectFrom('conversations').selectAll().where('chat_token', '=', chatToken).executeTakeFirst();
  if (!conversation) return undefined;
  const events = await db.selectFrom('events').selectAll().where('conversation_id', '=', conversation.id).orderBy('seq').execute();
  const eventIds = events.map((event) => event.id);
  const attachments = eventIds.length === 0 ? [] : await db.selectFrom('attachments').selectAll().where('event_id', 'in', eventIds).execute();
  const relays = await db.selectFrom('mail_relays').selectAll().where('conversation_id', '=', conversation.id).execute();
  const commands = await db.selectFrom('outbound_commands').selectAll().where('conversation_id', '=', conversation.id).execute();
  const parts = commands.length === 0 ? [] : await db.selectFrom('outbound_parts').selectAll().where('command_id', 'in', commands.map((c) => c.id)).execute();
  const waIds = [...events.filter((e) => e.direction === 'outbound').map((e) => e.wa_message_id), ...parts.map((p) => p.wa_message_id)];
  const statuses = waIds.length === 0 ? [] : await db.selectFrom('statuses').selectAll().where('wa_message_id', 'in', waIds).execute();
  const links = await db
    .selectFrom('matter_links')
    .innerJoin('matters', 'matters.id', 'matter_links.matter_id')
    .select(['matters.reference', 'matter_links.linked_at', 'matter_links.linked_by', 'matter_links.unlinked_at', 'matter_links.unlinked_by'])
    .where('matter_links.conversation_id', '=', conversation.id)
    .execute();
  const imports = (await importsOf(db).selectFrom('imports').selectAll().where('conversation_id', '=', conversation.id).execute()) as ImportsTable[];
  return { conversation, events, attachments, relays, commands, parts, statuses, links, imports };
}

/** What stops a restore into this live store; undefined when nothing does. */
export async function restoreConflict(db: Executor, rows: ConversationRows): Promise<string | undefined> {
  const c = rows.conversation;
  const same = await db.selectFrom('conversations').select('chat_token').where('tenant', '=', c.tenant).where('channel', '=', c.channel).where('chat_key', '=', c.chat_key).executeTakeFirst();
  if (same) return same.chat_token === c.chat_token ? `conversation ${c.chat_token} is in the live store already; nothing was restored` : `the live store has a newer conversation with the same chat (${same.chat_token}); restoring beside it would split the chat`;
  return undefined;
}


/** Inserts the rows in the caller's transaction; returns the live conversation id and matter links skipped. */
export async function insertConversationRows(tx: Executor, rows: ConversationRows): Promise<{ conversationId: number; skippedLinks: string[] }> {
  const { id: oldId, ...conversation } = rows.conversation;
  const taken = await tx.selectFrom('conversations').select('id').where('id', '=', oldId).executeTakeFirst();
  const inserted = await tx
    .insertInto('conversations')
    .values({ ...conversation, ...(taken ? {} : { id: oldId }) } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  const conversationId = inserted.id;
  const eventIds = new Map<number, number>();
  for (const { id, ...event } of rows.events) {
    const row = await tx.insertInto('events').values({ ...event, conversation_id: conversationId } as never).returning('id').executeTakeFirstOrThrow();
    eventIds.set(id, row.id);
  }
  // A document's text is read again: the restored events' search entries hold their messages alone.
  for (const { id: _id, ...attachment } of rows.attachments) {
    await tx.insertInto('attachments').values({ ...attachment, text_state: attachment.text_state === null ? null : 'pending', event_id: eventIds.get(attachment.event_id)! } as never).execute();
  }
  for (const { id: _id, ...relay } of rows.relays) {
    await tx.insertInto('mail_relays').values({ ...relay, conversation_id: conversationId, event_id: relay.event_id === null ? null : eventIds.get(relay.event_id)! } as never).onConflict((oc) => oc.doNothing()).execute();
  }
  const commandIds = new Map<number, number>();
  for (const { id, ...command } of rows.commands) {
    const row = await tx.insertInto('outbound_commands').values({ ...command, conversation_id: conversationId } as never).returning('id').executeTakeFirstOrThrow();
    commandIds.set(id, row.id);
  }
  for (const { id: _id, ...part } of rows.parts) await tx.insertInto('outbound_parts').values({ ...part, command_id: commandIds.get(part.command_id)! } as never).onConflict((oc) => oc.doNothing()).execute();
  for (const { id: _id, ...status } of rows.statuses) await tx.insertInto('statuses').values(status as never).onConflict((oc) => oc.doNothing()).execute();
  const skippedLinks: string[] = [];
  for (const link of rows.links) {
    const matter = await tx.selectFrom('matters').select('id').where('reference', '=', link.reference).executeTakeFirst();
    if (!matter) {
      skippedLinks.push(link.reference);
      continue;
    }
    await tx.insertInto('matter_links').values({ conversation_id: conversationId, matter_id: matter.id, linked_at: link.linked_at, linked_by: link.linked_by, unlinked_at: link.unlinked_at, unlinked_by: link.unlinked_by }).execute();
  }
  for (const { id: _id, ...row } of rows.imports) await importsOf(tx).insertInto('imports').values({ ...row, conversation_id: conversationId } as never).execute();
  return { conversationId, skippedLinks };
}

/**
 * Registers a restored blob: one in the live blob store (after its file was put there), or, with
 * `content`, one whose row keeps its bytes as stored.
 */
export async function ensureBlobRow(tx: Executor, sha256: string, size: number, now: number, content?: Buffer): Promise<void> {
  await tx.insertInto('blobs').values({ sha256, size, created_at: now, content: content ?? null }).onConflict((oc) => oc.column('sha256').doNothing()).execute();
}
