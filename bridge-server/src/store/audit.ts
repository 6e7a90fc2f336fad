import type { Generated, Kysely, Selectable } from 'kysely';
import { auditLink, type AuditAction, type AuditEntry, type AuditInput, type AuditTrail } from '../core/audit.js';
import type { Executor } from './executor.js';
import { lockChain } from './dialect.js';

export interface AuditEntriesTable {
  id: Generated<number>;
  at: number;
  actor: string;
  actor_name: string | null;
  roles: string;
  action: string;
  target: string | null;
  source: string;
  details_json: string;
  prev_sha256: string;
  entry_sha256: string;
}

type WithAudit = Kysely<{ audit_entries: AuditEntriesTable }>;
const auditOf = (db: Executor): WithAudit => db.withTables<{ audit_entries: AuditEntriesTable }>() as unknown as WithAudit;

/** A stored entry as it is on disk; details that no longer parse come back as `{ unreadable }`. */
function toEntry(row: Selectable<AuditEntriesTable>): AuditEntry {
  let details: AuditEntry['details'];
  try {
    details = JSON.parse(row.details_json) as AuditEntry['details'];
  } catch {
    details = { unreadable: row.details_json };
  }
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    ...(row.actor_name !== null ? { actorName: row.actor_name } : {}),
    roles: row.roles === '' ? [] : row.roles.split(','),
    action: row.action as AuditAction,
    ...(row.target !== null ? { target: row.target } : {}),
    source: row.source,
    ...(details ? { details } : {}),
    prevSha256: row.prev_sha256,
    entrySha256: row.entry_sha256,
  };
}

/**
 * Appends to the audit chain. The read of the newest link and the insert are one transaction,
 * so two requests recording at once still form one unbroken chain.
 */
export async function appendAudit(db: Executor, input: AuditInput): Promise<AuditEntry> {
  return db.transaction().execute(async (tx) => {
    await lockChain(tx, 'audit');
    const last = await auditOf(tx).selectFrom('audit_entries').select('entry_sha256').orderBy('id', 'desc').limit(1).executeTakeFirst();
    const prevSha256 = last?.entry_sha256 ?? '';
    const entrySha256 = auditLink(prevSha256, input);
    const row = await auditOf(tx)
      .insertInto('audit_entries')
      .values({
        at: input.at,
        actor: input.actor,
        actor_name: input.actorName ?? null,
        roles: (input.roles ?? []).join(','),
        action: input.action,
        target: input.target ?? null,
        source: input.source,
        details_json: JSON.stringify(input.details ?? {}),
        prev_sha256: prevSha256,
        entry_sha256: entrySha256,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEntry(row);
  });
}

export interface AuditFilter {
  from?: number;
  to?: number;
  actor?: string;
  action?: string;
  target?: string;
  afterId?: number;
  limit?: number;
}

/** Entries matching the filter, oldest first. */
export async function queryAudit(db: Executor, filter: AuditFilter): Promise<AuditEntry[]> {
  let query = auditOf(db).selectFrom('audit_entries').selectAll();
  if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('at', '<', filter.to);
  if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
  if (filter.action !== undefined) query = query.where('action', '=', filter.action);
  if (filter.target !== undefined) query = query.where('target', '=', filter.target);
  if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
  const rows = await query.orderBy('id').limit(filter.limit ?? 10_000).execute();
  return rows.map(toEntry);
}

/** Every entry in order, streamed; holds the connection until done. */
export async function* scanAudit(db: Executor, chunkSize = 2000): AsyncGenerator<AuditEntry> {
  for await (const row of auditOf(db).selectFrom('audit_entries').selectAll().orderBy('id').stream(chunkSize)) yield toEntry(row);
}

/** The audit trail over this store. */
export class SqlAuditTrail implements AuditTrail {
  constructor(private readonly db: Executor) {}

  record(entry: Omit<AuditInput, 'at'> & { at?: number }): Promise<AuditEntry> {
    return appendAudit(this.db, { ...entry, at: entry.at ?? Date.now() });
  }
}

/** The newest entry's id and link, for checkpoints; undefined while the trail is empty. */
export async function auditHead(db: Executor): Promise<{ id: number; entrySha256: string } | undefined> {
  const row = await auditOf(db).selectFrom('audit_entries').select(['id', 'entry_sha256']).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? { id: row.id, entrySha256: row.entry_sha256 } : undefined;
}

/** When `actor` last recorded `action`; undefined if never. */
export async function lastRecordedAt(db: Executor, action: string, actor: string): Promise<number | undefined> {
  const row = await auditOf(db).selectFrom('audit_entries').select('at').where('actor', '=', actor).where('action', '=', action).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.at;
}

/** The newest entry with this action, actor and target; undefined if there is none. */
export async function lastAuditEntry(db: Executor, filter: { action: AuditAction; actor: string; target: string; source?: string }): Promise<AuditEntry | undefined> {
  let query = auditOf(db)
    .selectFrom('audit_entries')
    .selectAll()
    .where('action', '=', filter.action)
    .where('actor', '=', filter.actor)
    .where('target', '=', filter.target);
  if (filter.source !== undefined) query = query.where('source', '=', filter.source);
  const row = await query
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toEntry(row) : undefined;
}

/** How many entries come after entry `id` (the newest one a checkpoint signed). */
export async function countAuditAfter(db: Executor, id: number): Promise<number> {
  const row = await auditOf(db).selectFrom('audit_entries').select((eb) => eb.fn.countAll<number | string>().as('n')).where('id', '>', id).executeTakeFirst();
  return Number(row?.n ?? 0);
}
