import { SqliteAdapter, sql } from 'kysely';
import type { ImportCounts, ImportedEventRow, ImportRecord, ImportStore, NewImport } from '../core/imports.js';
import type { Tx } from '../core/ports.js';
import { executorOf, type Executor } from './executor.js';
import { insertEventRows } from './import-batch.js';

interface ImportRow {
  id: number;
  conversation_id: number;
  source_sha256: string;
  source_name: string;
  source_size: number;
  source_kind: string;
  time_zone: string;
  date_order: string;
  firm_authors_json: string;
  imported_by: string;
  mirrored: number;
  state: string;
  started_at: number;
  finished_at: number | null;
  messages: number;
  added: number;
  duplicates: number;
  media_linked: number;
  media_missing: number;
  first_message_at: number | null;
  last_message_at: number | null;
}

// The imports table is outside store/schema.ts's Database type (that file is shared by every
// table family); these few statements use Kysely's sql tag with bound values instead.

/** The import rows of one tenant, keyed by their own table: implements ImportStore. */
export class SqlImportStore implements ImportStore {
  constructor(private readonly tenant: string) {}

  async beginImport(tx: Tx, r: NewImport): Promise<number> {
    const result = await sql<{ id: number }>`
      INSERT INTO imports (tenant, conversation_id, source_sha256, source_name, source_size, source_kind, time_zone, date_order,
        firm_authors_json, imported_by, mirrored, started_at)
      VALUES (${this.tenant}, ${r.conversationId}, ${r.sourceSha256}, ${r.sourceName}, ${r.sourceSize}, ${r.sourceKind}, ${r.timeZone},
        ${r.dateOrder}, ${JSON.stringify(r.firmAuthors)}, ${r.importedBy}, ${r.mirrored ? 1 : 0}, ${r.startedAt})
      RETURNING id`.execute(executorOf(tx));
    return result.rows[0]!.id;
  }

  async existingMessageIds(tx: Tx, channel: string, waMessageIds: string[]): Promise<Set<string>> {
    if (waMessageIds.length === 0) return new Set();
    if (!(await mayHaveAny(executorOf(tx), this.tenant, channel, waMessageIds))) return new Set();
    const rows = await sql<{ wa_message_id: string }>`
      SELECT wa_message_id FROM events
      WHERE tenant = ${this.tenant} AND channel = ${channel} AND kind = 'message' AND version_key = ''
        AND wa_message_id IN (${sql.join(waMessageIds)})`.execute(executorOf(tx));
    return new Set(rows.rows.map((row) => row.wa_message_id));
  }

  /** Stores a group of events of one conversation in seq order (store/import-batch.ts); their ids in that order. */
  insertEvents(tx: Tx, conversationId: number, rows: readonly ImportedEventRow[]): Promise<number[]> {
    return insertEventRows(executorOf(tx), this.tenant, conversationId, rows);
  }

  async finishImport(tx: Tx, id: number, c: ImportCounts, finishedAt: number): Promise<void> {
    await sql`
      UPDATE imports SET state = 'complete', finished_at = ${finishedAt}, messages = ${c.messages}, added = ${c.added},
        duplicates = ${c.duplicates}, media_linked = ${c.mediaLinked}, media_missing = ${c.mediaMissing},
        first_message_at = ${c.firstMessageAt}, last_message_at = ${c.lastMessageAt}
      WHERE id = ${id}`.execute(executorOf(tx));
  }
}

/**
 * False when no stored id of the channel starts with what the ids have in common (an import's ids
 * share "export.<source hash>."): one step down the unique index instead of a lookup per id, for
 * the usual import of a file never seen before. SQLite only, whose text index orders by bytes; a
 * database that orders text by a locale's collation always gets the lookup per id.
 */
async function mayHaveAny(db: Executor, tenant: string, channel: string, ids: string[]): Promise<boolean> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return true;
  let prefix = ids[0]!;
  for (const id of ids) {
    let n = 0;
    while (n < prefix.length && n < id.length && prefix.charCodeAt(n) === id.charCodeAt(n)) n += 1;
    prefix = prefix.slice(0, n);
  }
  // The range [prefix, prefix with its last character raised) needs a plain ASCII prefix.
  if (prefix.length < 8 || !/^[\x20-\x7e]+$/.test(prefix)) return true;
  const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const found = await sql`
    SELECT 1 AS found FROM events WHERE tenant = ${tenant} AND channel = ${channel} AND wa_message_id >= ${prefix} AND wa_message_id < ${upper} LIMIT 1`.execute(db);
  return found.rows.length > 0;
}

export async function listImports(db: Executor, conversationId?: number): Promise<ImportRecord[]> {
  const rows = await sql<ImportRow>`SELECT * FROM imports WHERE ${conversationId === undefined ? sql`1 = 1` : sql`conversation_id = ${conversationId}`} ORDER BY id`.execute(db);
  return rows.rows.map((row) => ({
    id: row.id,
    conversationId: row.conversation_id,
    sourceSha256: row.source_sha256,
    sourceName: row.source_name,
    sourceSize: row.source_size,
    sourceKind: row.source_kind as 'txt' | 'zip',
    timeZone: row.time_zone,
    dateOrder: row.date_order,
    firmAuthors: JSON.parse(row.firm_authors_json) as string[],
    importedBy: row.imported_by,
    mirrored: row.mirrored === 1,
    state: row.state as 'running' | 'complete',
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    counts: {
      messages: row.messages,
      added: row.added,
      duplicates: row.duplicates,
      mediaLinked: row.media_linked,
      mediaMissing: row.media_missing,
      firstMessageAt: row.first_message_at,
      lastMessageAt: row.last_message_at,
    },
  }));
}

/** Conversations linked to the matter by a link in force. */
export async function conversationsOfMatter(db: Executor, matterId: number): Promise<number[]> {
  const result = await sql<{ conversation_id: number }>`
    SELECT DISTINCT conversation_id FROM matter_links WHERE matter_id = ${matterId} AND unlinked_at IS NULL ORDER BY conversation_id`.execute(db);
  return result.rows.map((row) => row.conversation_id);
}

/** Conversations of the tenant whose client has this phone number (digits), newest first. */
export async function conversationsByPhone(db: Executor, tenant: string, waId: string): Promise<number[]> {
  const result = await sql<{ id: number }>`SELECT id FROM conversations WHERE tenant = ${tenant} AND client_wa_id = ${waId} ORDER BY id DESC`.execute(db);
  return result.rows.map((row) => row.id);
}
