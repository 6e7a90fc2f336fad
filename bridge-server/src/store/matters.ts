import { sql } from 'kysely';
import type { Executor } from './executor.js';

/** Matters, their members, links and assignees. UPNs arrive lower-case (core/matters.ts). */
export interface MatterRow {
  id: number;
  reference: string;
  title: string;
  matterType: string | null;
  state: 'open' | 'closed';
  members: Array<{ upn: string; name: string | null }>;
  createdAt: number;
  createdBy: string;
  closedAt: number | null;
  linkedConversations: number;
}

export interface LinkRow {
  id: number;
  conversationId: number;
  matterId: number;
  reference: string;
  title: string;
  linkedAt: number;
  linkedBy: string;
  unlinkedAt: number | null;
  unlinkedBy: string | null;
}

export interface NewMatter {
  reference: string;
  title: string;
  matterType: string | null;
  members: Array<{ upn: string; name: string | null }>;
  createdBy: string;
}

/** Inserts the matter and its members; undefined when the reference is taken. */
export async function createMatter(db: Executor, matter: NewMatter, now: number): Promise<number | undefined> {
  const row = await db
    .insertInto('matters')
    .values({ reference: matter.reference, title: matter.title, matter_type: matter.matterType, created_at: now, created_by: matter.createdBy, closed_at: null, closed_by: null })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!row) return undefined;
  for (const member of matter.members) await addMember(db, row.id, member, matter.createdBy, now);
  return row.id;
}

export async function addMember(db: Executor, matterId: number, member: { upn: string; name: string | null }, addedBy: string, now: number): Promise<void> {
  await db
    .insertInto('matter_members')
    .values({ matter_id: matterId, upn: member.upn, name: member.name, added_at: now, added_by: addedBy })
    .onConflict((oc) => oc.columns(['matter_id', 'upn']).doUpdateSet({ name: (eb) => eb.fn.coalesce('excluded.name', 'matter_members.name') }))
    .execute();
}

export async function getMatter(db: Executor, id: number): Promise<MatterRow | undefined> {
  return (await loadMatters(db, [id]))[0];
}

export async function findMatterByReference(db: Executor, reference: string): Promise<number | undefined> {
  const row = await db.selectFrom('matters').select('id').where(sql`lower(reference)`, '=', reference.toLowerCase()).executeTakeFirst();
  return row?.id;
}

/** Matters by state and text, optionally only those `memberUpn` is on; newest first. */
export async function listMatters(db: Executor, filter: { state: 'open' | 'closed' | 'all'; q?: string; memberUpn?: string }): Promise<MatterRow[]> {
  let query = db.selectFrom('matters').select('id').orderBy('created_at', 'desc').orderBy('id', 'desc').limit(500);
  if (filter.state !== 'all') query = query.where('state', '=', filter.state);
  if (filter.q) {
    const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([sql<boolean>`lower(reference) LIKE lower(${like}) ESCAPE '\\'`, sql<boolean>`lower(title) LIKE lower(${like}) ESCAPE '\\'`]));
  }
  if (filter.memberUpn !== undefined) {
    const upn = filter.memberUpn;
    query = query.where('id', 'in', db.selectFrom('matter_members').select('matter_id').where('upn', '=', upn));
  }
  const ids = (await query.execute()).map((row) => row.id);
  return loadMatters(db, ids);
}

async function loadMatters(db: Executor, ids: number[]): Promise<MatterRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('matters').selectAll().where('id', 'in', ids).execute();
  const members = await db.selectFrom('matter_members').select(['matter_id', 'upn', 'name']).where('matter_id', 'in', ids).orderBy('added_at').orderBy('upn').execute();
  const counts = await db
    .selectFrom('matter_links')
    .select(['matter_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('matter_id', 'in', ids)
    .where('unlinked_at', 'is', null)
    .groupBy('matter_id')
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    return [
      {
        id: row.id,
        reference: row.reference,
        title: row.title,
        matterType: row.matter_type,
        state: row.state as 'open' | 'closed',
        members: members.filter((m) => m.matter_id === id).map((m) => ({ upn: m.upn, name: m.name })),
        createdAt: row.created_at,
        createdBy: row.created_by,
        closedAt: row.closed_at,
        linkedConversations: Number(counts.find((c) => c.matter_id === id)?.n ?? 0),
      },
    ];
  });
}

export async function closeMatter(db: Executor, id: number, by: string, now: number): Promise<void> {
  await db.updateTable('matters').set({ state: 'closed', closed_at: now, closed_by: by }).where('id', '=', id).where('state', '=', 'open').execute();
}

/** Ids of the matters this UPN is on. */
export async function memberMatterIds(db: Executor, upn: string): Promise<Set<number>> {
  const rows = await db.selectFrom('matter_members').select('matter_id').where('upn', '=', upn).execute();
  return new Set(rows.map((row) => row.matter_id));
}

const linkColumns = [
  'matter_links.id as id',
  'matter_links.conversation_id as conversationId',
  'matter_links.matter_id as matterId',
  'matters.reference as reference',
  'matters.title as title',
  'matter_links.linked_at as linkedAt',
  'matter_links.linked_by as linkedBy',
  'matter_links.unlinked_at as unlinkedAt',
  'matter_links.unlinked_by as unlinkedBy',
] as const;

/** Links of these conversations, newest first; only links in force unless `all`. */
export async function listLinks(db: Executor, conversationIds: number[], all: boolean): Promise<LinkRow[]> {
  if (conversationIds.length === 0) return [];
  let query = db
    .selectFrom('matter_links')
    .innerJoin('matters', 'matters.id', 'matter_links.matter_id')
    .select(linkColumns)
    .where('matter_links.conversation_id', 'in', conversationIds)
    .orderBy('matter_links.linked_at', 'desc')
    .orderBy('matter_links.id', 'desc');
  if (!all) query = query.where('matter_links.unlinked_at', 'is', null);
  return query.execute();
}

/** Every conversation ever linked to the matter: those whose retention the matter decides. */
export async function conversationsEverLinked(db: Executor, matterId: number): Promise<number[]> {
  const rows = await db.selectFrom('matter_links').select('conversation_id').distinct().where('matter_id', '=', matterId).orderBy('conversation_id').execute();
  return rows.map((row) => row.conversation_id);
}

export async function getLink(db: Executor, id: number): Promise<LinkRow | undefined> {
  return db.selectFrom('matter_links').innerJoin('matters', 'matters.id', 'matter_links.matter_id').select(linkColumns).where('matter_links.id', '=', id).executeTakeFirst();
}

export async function insertLink(db: Executor, conversationId: number, matterId: number, by: string, now: number): Promise<number> {
  const row = await db
    .insertInto('matter_links')
    .values({ conversation_id: conversationId, matter_id: matterId, linked_at: now, linked_by: by, unlinked_at: null, unlinked_by: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function endLink(db: Executor, id: number, by: string, now: number): Promise<void> {
  await db.updateTable('matter_links').set({ unlinked_at: now, unlinked_by: by }).where('id', '=', id).where('unlinked_at', 'is', null).execute();
}

export async function getAssignees(db: Executor, conversationIds: number[]): Promise<Map<number, string>> {
  if (conversationIds.length === 0) return new Map();
  const rows = await db.selectFrom('conversation_assignees').select(['conversation_id', 'assignee']).where('conversation_id', 'in', conversationIds).execute();
  return new Map(rows.map((row) => [row.conversation_id, row.assignee]));
}

/** Sets or (with null) clears the assignee. */
export async function setAssignee(db: Executor, conversationId: number, assignee: string | null, by: string, now: number): Promise<void> {
  if (assignee === null) {
    await db.deleteFrom('conversation_assignees').where('conversation_id', '=', conversationId).execute();
    return;
  }
  await db
    .insertInto('conversation_assignees')
    .values({ conversation_id: conversationId, assignee, assigned_at: now, assigned_by: by })
    .onConflict((oc) => oc.column('conversation_id').doUpdateSet({ assignee, assigned_at: now, assigned_by: by }))
    .execute();
}

/** What access to one conversation turns on: its matters in force and its assignee. */
export async function conversationFacts(db: Executor, conversationId: number): Promise<{ matterIds: number[]; assignee: string | null }> {
  const links = await db.selectFrom('matter_links').select('matter_id').where('conversation_id', '=', conversationId).where('unlinked_at', 'is', null).execute();
  const assignee = await db.selectFrom('conversation_assignees').select('assignee').where('conversation_id', '=', conversationId).executeTakeFirst();
  return { matterIds: links.map((l) => l.matter_id), assignee: assignee?.assignee ?? null };
}
