import { sql, type Generated, type Kysely } from 'kysely';
import type { RetentionFacts } from '../core/retention.js';
import { dialectOf } from './dialect.js';
import type { Executor } from './executor.js';

/**
 * Legal holds, deletion certificates, and the one delete path of the archive. Deleting runs in a
 * transaction that first marks retention_in_progress, the only state in which the archive's
 * triggers let a delete through; the mark is removed before the transaction commits.
 */

type LegalHoldsTable = {
  id: Generated<number>;
  matter_id: number | null;
  conversation_id: number | null;
  reason: string;
  placed_at: number;
  placed_by: string;
  released_at: number | null;
  released_by: string | null;
  release_reason: string | null;
};

type DeletionCertificatesTable = {
  id: Generated<number>;
  conversation_id: number;
  chat_id: string;
  reason: string;
  deleted_at: number;
  last_seq: number;
  chain_head: string;
  certificate_json: string;
  certificate_sha256: string;
};

type RetentionTables = {
  legal_holds: LegalHoldsTable;
  deletion_certificates: DeletionCertificatesTable;
  retention_in_progress: { id: number; started_at: number };
  imports: { id: number; conversation_id: number };
};
type WithRetention = Kysely<RetentionTables>;
const retentionOf = (db: Executor): WithRetention => db.withTables<RetentionTables>() as unknown as WithRetention;

export interface LegalHold {
  id: number;
  matterId: number | null;
  matterReference: string | null;
  conversationId: number | null;
  /** Null when the hold is on a matter, or its conversation was deleted; so are the client's name and WhatsApp id. */
  chatId: string | null;
  clientName: string | null;
  clientWaId: string | null;
  reason: string;
  placedAt: number;
  placedBy: string;
  releasedAt: number | null;
  releasedBy: string | null;
  releaseReason: string | null;
}

export async function placeHold(db: Executor, hold: { matterId?: number; conversationId?: number; reason: string; placedBy: string; at: number }): Promise<number> {
  const row = await retentionOf(db)
    .insertInto('legal_holds')
    .values({ matter_id: hold.matterId ?? null, conversation_id: hold.conversationId ?? null, reason: hold.reason, placed_at: hold.at, placed_by: hold.placedBy, released_at: null, released_by: null, release_reason: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Releases a hold in force; false when there is no such hold or it was released already. */
export async function releaseHold(db: Executor, id: number, release: { by: string; reason: string; at: number }): Promise<boolean> {
  const result = await retentionOf(db)
    .updateTable('legal_holds')
    .set({ released_at: release.at, released_by: release.by, release_reason: release.reason })
    .where('id', '=', id)
    .where('released_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Holds in the order they were placed: in force only unless `includeReleased`. When asked, only
 * those on one matter, one hold, or those covering one conversation (on it, or on a matter it was
 * ever linked to: what keeps it from deletion).
 */
export async function listHolds(db: Executor, includeReleased: boolean, only: { matterId?: number; id?: number; covering?: number } = {}): Promise<LegalHold[]> {
  let query = retentionOf(db)
    .selectFrom('legal_holds')
    .leftJoin(sql<{ id: number; reference: string }>`matters`.as('m'), 'm.id', 'legal_holds.matter_id')
    .leftJoin(sql<{ id: number; chat_token: string; client_name: string | null; client_wa_id: string | null }>`conversations`.as('c'), 'c.id', 'legal_holds.conversation_id')
    .select([
      'legal_holds.id',
      'legal_holds.matter_id',
      'm.reference',
      'legal_holds.conversation_id',
      'c.chat_token',
      'c.client_name',
      'c.client_wa_id',
      'legal_holds.reason',
      'legal_holds.placed_at',
      'legal_holds.placed_by',
      'legal_holds.released_at',
      'legal_holds.released_by',
      'legal_holds.release_reason',
    ]);
  if (!includeReleased) query = query.where('legal_holds.released_at', 'is', null);
  if (only.matterId !== undefined) query = query.where('legal_holds.matter_id', '=', only.matterId);
  if (only.id !== undefined) query = query.where('legal_holds.id', '=', only.id);
  if (only.covering !== undefined) {
    const conversationId = only.covering;
    query = query.where((eb) =>
      eb.or([
        eb('legal_holds.conversation_id', '=', conversationId),
        eb('legal_holds.matter_id', 'in', sql<number>`(select matter_id from matter_links where conversation_id = ${conversationId})`),
      ]),
    );
  }
  const rows = await query.orderBy('legal_holds.id').execute();
  return rows.map((row) => ({
    id: Number(row.id),
    matterId: row.matter_id === null ? null : Number(row.matter_id),
    matterReference: row.reference ?? null,
    conversationId: row.conversation_id === null ? null : Number(row.conversation_id),
    chatId: row.chat_token ?? null,
    clientName: row.client_name ?? null,
    clientWaId: row.client_wa_id ?? null,
    reason: row.reason,
    placedAt: Number(row.placed_at),
    placedBy: row.placed_by,
    releasedAt: row.released_at === null ? null : Number(row.released_at),
    releasedBy: row.released_by,
    releaseReason: row.release_reason,
  }));
}

/**
 * The legal holds in one value that changes with every placing and release (holds are only ever
 * added and released, never deleted): the newest id and how many are released.
 */
export async function holdsState(db: Executor): Promise<string> {
  const row = await retentionOf(db)
    .selectFrom('legal_holds')
    .select([(eb) => eb.fn.max<number | null>('id').as('newest'), (eb) => eb.fn.count<number>('released_at').as('released')])
    .executeTakeFirst();
  return `${row?.newest ?? 0}:${row?.released ?? 0}`;
}

/** Where a legal hold is and whether it is released: what the live stream compares to tell who a change concerns. */
export interface HoldPlace {
  id: number;
  matterId: number | null;
  conversationId: number | null;
  released: boolean;
}

/** holdsState's value for these holds, all there are. */
export function holdsStateOf(holds: readonly HoldPlace[]): string {
  return `${holds.reduce((newest, hold) => Math.max(newest, hold.id), 0)}:${holds.filter((hold) => hold.released).length}`;
}

/** Every legal hold's place, released ones included. */
export async function holdPlaces(db: Executor): Promise<HoldPlace[]> {
  const rows = await retentionOf(db).selectFrom('legal_holds').select(['id', 'matter_id', 'conversation_id', 'released_at']).orderBy('id').execute();
  return rows.map((row) => ({
    id: Number(row.id),
    matterId: row.matter_id === null ? null : Number(row.matter_id),
    conversationId: row.conversation_id === null ? null : Number(row.conversation_id),
    released: row.released_at !== null,
  }));
}

/** What retention decides on, for every conversation (or the ones given). */
export async function listRetentionFacts(db: Executor, conversationIds?: readonly number[]): Promise<RetentionFacts[]> {
  // Each conversation's newest event is one step down the index on (conversation, time): a
  // million-message archive answers in milliseconds, where grouping every event took a scan.
  let conversations = db
    .selectFrom('conversations')
    .select([
      'conversations.id',
      'conversations.chat_token',
      'conversations.client_name',
      'conversations.client_wa_id',
      'conversations.opened_at',
      (eb) => eb.selectFrom('events').select((events) => events.fn.max('events.wa_timestamp').as('newest')).whereRef('events.conversation_id', '=', 'conversations.id').as('last_at'),
    ]);
  if (conversationIds) conversations = conversations.where('conversations.id', 'in', conversationIds.length > 0 ? [...conversationIds] : [-1]);
  const rows = await conversations.orderBy('conversations.id').execute();
  let linkQuery = db
    .selectFrom('matter_links')
    .innerJoin('matters', 'matters.id', 'matter_links.matter_id')
    .select(['matter_links.conversation_id', 'matters.id as matter_id', 'matters.reference', 'matters.matter_type', 'matters.closed_at']);
  if (conversationIds) linkQuery = linkQuery.where('matter_links.conversation_id', 'in', rows.length > 0 ? rows.map((row) => row.id) : [-1]);
  const links = await linkQuery.execute();
  const holds = await retentionOf(db).selectFrom('legal_holds').select(['id', 'matter_id', 'conversation_id', 'reason']).where('released_at', 'is', null).execute();
  const matterRefs = new Map(links.map((link) => [link.matter_id, link.reference]));
  const linksOf = groupBy(links, (link) => link.conversation_id);
  const holdsOnMatter = groupBy(holds, (hold) => hold.matter_id);
  const holdsOnConversation = groupBy(holds, (hold) => hold.conversation_id);
  return rows.map((row) => {
    const own = linksOf.get(row.id) ?? [];
    const matters = [...new Map(own.map((link) => [link.matter_id, { reference: link.reference, matterType: link.matter_type, closedAt: link.closed_at }])).values()];
    const matterIds = new Set(own.map((link) => link.matter_id));
    const covering = [...(holdsOnConversation.get(row.id) ?? []), ...[...matterIds].flatMap((id) => holdsOnMatter.get(id) ?? [])].sort((a, b) => a.id - b.id);
    return {
      conversationId: row.id,
      chatId: row.chat_token,
      clientName: row.client_name,
      clientWaId: row.client_wa_id,
      openedAt: row.opened_at,
      lastActivityAt: Number(row.last_at ?? row.opened_at),
      matters,
      holds: covering.map((hold) => ({ id: hold.id, on: hold.conversation_id !== null ? `conversation ${row.chat_token}` : `matter ${matterRefs.get(hold.matter_id!) ?? hold.matter_id}`, reason: hold.reason })),
    };
  });
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export interface ConversationContents {
  chatId: string;
  chatKey: string;
  openedAt: number;
  lastSeq: number;
  chainHead: string;
  eventLinks: string[];
  mediaSha256: string[];
  mailSha256: string[];
}

export async function describeConversationContents(db: Executor, conversationId: number): Promise<ConversationContents> {
  const conversation = await db.selectFrom('conversations').select(['chat_token', 'chat_key', 'opened_at', 'last_seq', 'chain_head']).where('id', '=', conversationId).executeTakeFirstOrThrow();
  const events = await db.selectFrom('events').select(['id', 'chain_sha256']).where('conversation_id', '=', conversationId).orderBy('seq').execute();
  const media = events.length === 0 ? [] : await db.selectFrom('attachments').select('sha256').where('event_id', 'in', events.map((e) => e.id)).where('sha256', 'is not', null).execute();
  const mails = await db.selectFrom('mail_relays').select('raw_sha256').where('conversation_id', '=', conversationId).execute();
  return {
    chatId: conversation.chat_token,
    chatKey: conversation.chat_key,
    openedAt: conversation.opened_at,
    lastSeq: conversation.last_seq,
    chainHead: conversation.chain_head,
    eventLinks: events.map((e) => e.chain_sha256),
    mediaSha256: [...new Set(media.map((m) => m.sha256!))],
    mailSha256: mails.map((m) => m.raw_sha256),
  };
}

/**
 * Deletes a conversation and everything that hangs off it, and writes its certificate, in one
 * transaction. Returns the blobs no other conversation uses any more: the caller removes their
 * files after the commit (a crash in between leaves unlisted files, which nothing reads).
 */
export async function deleteConversation(
  db: Executor,
  conversationId: number,
  certificate: { chatId: string; reason: string; deletedAt: number; lastSeq: number; chainHead: string; json: string; sha256: string },
): Promise<string[]> {
  const sqlite = dialectOf(db) === 'sqlite';
  const unusedBlobs = await db.transaction().execute(async (tx) => {
    // SQLite overwrites what this transaction deletes with zeros instead of leaving it in free
    // space in the file, where it could be read back after an erasure.
    const secureDelete = sqlite ? Number((await sql<{ secure_delete: number }>`PRAGMA secure_delete`.execute(tx)).rows[0]?.secure_delete ?? 0) : 0;
    if (sqlite) await sql`PRAGMA secure_delete = ON`.execute(tx);
    const r = retentionOf(tx);
    await r.insertInto('retention_in_progress').values({ id: 1, started_at: certificate.deletedAt }).execute();
    const eventIds = (await tx.selectFrom('events').select('id').where('conversation_id', '=', conversationId).execute()).map((row) => row.id);
    const blobs = new Set<string>();
    if (eventIds.length > 0) {
      for (const row of await tx.selectFrom('attachments').select('sha256').where('event_id', 'in', eventIds).execute()) if (row.sha256) blobs.add(row.sha256);
    }
    for (const row of await tx.selectFrom('mail_relays').select('raw_sha256').where('conversation_id', '=', conversationId).execute()) blobs.add(row.raw_sha256);
    const commandIds = (await tx.selectFrom('outbound_commands').select('id').where('conversation_id', '=', conversationId).execute()).map((row) => row.id);
    if (commandIds.length > 0) {
      const parts = await tx.selectFrom('outbound_parts').select('wa_message_id').where('command_id', 'in', commandIds).execute();
      if (parts.length > 0) await tx.deleteFrom('statuses').where('wa_message_id', 'in', parts.map((p) => p.wa_message_id)).execute();
      await tx.deleteFrom('outbound_parts').where('command_id', 'in', commandIds).execute();
      await tx.deleteFrom('outbound_commands').where('id', 'in', commandIds).execute();
    }
    if (eventIds.length > 0) {
      const waIds = (await tx.selectFrom('events').select('wa_message_id').where('conversation_id', '=', conversationId).where('direction', '=', 'outbound').execute()).map((row) => row.wa_message_id);
      if (waIds.length > 0) await tx.deleteFrom('statuses').where('wa_message_id', 'in', waIds).execute();
      await sql`DELETE FROM message_search WHERE rowid IN (SELECT id FROM events WHERE conversation_id = ${conversationId})`.execute(tx);
      await tx.deleteFrom('attachments').where('event_id', 'in', eventIds).execute();
    }
    await tx.deleteFrom('outbox_jobs').where('conversation_id', '=', conversationId).execute();
    await tx.deleteFrom('mail_relays').where('conversation_id', '=', conversationId).execute();
    await tx.deleteFrom('events').where('conversation_id', '=', conversationId).execute();
    await tx.deleteFrom('matter_links').where('conversation_id', '=', conversationId).execute();
    await tx.deleteFrom('conversation_assignees').where('conversation_id', '=', conversationId).execute();
    await r.deleteFrom('imports').where('conversation_id', '=', conversationId).execute();
    await tx.deleteFrom('conversations').where('id', '=', conversationId).execute();
    await r
      .insertInto('deletion_certificates')
      .values({ conversation_id: conversationId, chat_id: certificate.chatId, reason: certificate.reason, deleted_at: certificate.deletedAt, last_seq: certificate.lastSeq, chain_head: certificate.chainHead, certificate_json: certificate.json, certificate_sha256: certificate.sha256 })
      .execute();
    const unused: string[] = [];
    for (const hash of blobs) {
      const still = await tx.selectFrom('attachments').select('id').where('sha256', '=', hash).limit(1).executeTakeFirst();
      const mail = await tx.selectFrom('mail_relays').select('id').where('raw_sha256', '=', hash).limit(1).executeTakeFirst();
      if (!still && !mail) {
        await tx.deleteFrom('blobs').where('sha256', '=', hash).execute();
        unused.push(hash);
      }
    }
    await r.deleteFrom('retention_in_progress').execute();
    if (sqlite) await sql.raw(`PRAGMA secure_delete = ${secureDelete}`).execute(tx);
    return unused;
  });
  // The write-ahead log still holds earlier copies of the pages: copied into the file and cut
  // back to nothing, they are gone too. Best effort: a reader in the middle of a transaction makes
  // it wait for the next checkpoint.
  if (sqlite) await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db).catch(() => undefined);
  return unusedBlobs;
}

/** Conversations retention or erasure removed: the last seq and head each had. */
export async function listDeletedConversations(db: Executor): Promise<Map<number, { lastSeq: number; chainHead: string; chatId: string; deletedAt: number }>> {
  const rows = await retentionOf(db).selectFrom('deletion_certificates').select(['conversation_id', 'last_seq', 'chain_head', 'chat_id', 'deleted_at']).orderBy('id').execute();
  return new Map(rows.map((row) => [row.conversation_id, { lastSeq: row.last_seq, chainHead: row.chain_head, chatId: row.chat_id, deletedAt: row.deleted_at }]));
}

/** Conversations of one person: by phone number (wa_id digits) or by business-scoped user id. */
export async function findConversationsByClient(db: Executor, who: { waId: string } | { userId: string }): Promise<Array<{ id: number; chatToken: string }>> {
  const query = db.selectFrom('conversations').select(['id', 'chat_token']);
  const rows = await ('waId' in who ? query.where('client_wa_id', '=', who.waId) : query.where('client_user_id', '=', who.userId)).orderBy('id').execute();
  return rows.map((row) => ({ id: row.id, chatToken: row.chat_token }));
}

/** A deletion certificate as stored: what was deleted, when, why, and the signed-off JSON with its hash. */
export interface DeletionCertificate {
  id: number;
  chatId: string;
  reason: string;
  deletedAt: number;
  lastSeq: number;
  chainHead: string;
  json: string;
  sha256: string;
}

/** Every deletion certificate, oldest first, or those of one chat, or the one with this id. */
export async function listDeletionCertificates(db: Executor, only?: string | { id: number }): Promise<DeletionCertificate[]> {
  let query = retentionOf(db).selectFrom('deletion_certificates').select(['id', 'chat_id', 'reason', 'deleted_at', 'last_seq', 'chain_head', 'certificate_json', 'certificate_sha256']).orderBy('id');
  if (typeof only === 'string') query = query.where('chat_id', '=', only);
  else if (only !== undefined) query = query.where('id', '=', only.id);
  return (await query.execute()).map((row) => ({
    id: Number(row.id),
    chatId: row.chat_id,
    reason: row.reason,
    deletedAt: Number(row.deleted_at),
    lastSeq: Number(row.last_seq),
    chainHead: row.chain_head,
    json: row.certificate_json,
    sha256: row.certificate_sha256,
  }));
}

/** The tables a conversation's deletion removes rows from, which may hold what the client wrote. */
const deletedFrom = ['events', 'message_search', 'attachments', 'blobs', 'statuses', 'mail_relays', 'outbox_jobs', 'outbound_commands', 'outbound_parts', 'conversations', 'matter_links', 'conversation_assignees', 'imports'];

/** How the deleted rows' bytes were dealt with after deletions (see sweepDeleted). */
export type Sweep = 'overwritten' | 'pruned' | 'rewritten';

/**
 * After conversations are deleted, takes what is left of their rows out of the store's files.
 * SQLite has already overwritten them (secure_delete, and the write-ahead log cut back): nothing
 * to do. PostgreSQL keeps a deleted row in its table as a dead version until VACUUM: `prune` runs
 * it on the tables concerned, which frees the rows and their index entries at once instead of
 * whenever autovacuum comes by, but may leave a row's bytes in its page's free space until they
 * are written over. `rewrite` (VACUUM FULL) copies each table into new files and drops the old
 * ones, so no copy stays in any table file; each table is locked while it is rewritten, so that
 * is for a quiet hour. The server's write-ahead log and earlier base backups keep their copies
 * until they are recycled; encrypt the database's disk for those.
 */
export async function sweepDeleted(db: Executor, how: 'prune' | 'rewrite'): Promise<Sweep> {
  if (dialectOf(db) === 'sqlite') return 'overwritten';
  await sql.raw(`VACUUM ${how === 'rewrite' ? 'FULL ' : ''}${deletedFrom.join(', ')}`).execute(db);
  return how === 'rewrite' ? 'rewritten' : 'pruned';
}
