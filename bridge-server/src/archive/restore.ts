import path from 'node:path';
import { sql } from 'kysely';
import type { AuditTrail } from '../core/audit.js';
import { ChainChecker } from '../core/chain-check.js';
import { sha256 } from '../core/ids.js';
import { BadInputError, ConflictError, NotFoundError } from '../core/errors.js';
import type { BlobStore } from '../core/ports.js';
import { toScanned } from '../store/archive.js';
import { InlineBlobStore } from '../store/blob-inline.js';
import { openSqlite } from '../store/db.js';
import { dialectOf } from '../store/dialect.js';
import type { Executor } from '../store/executor.js';
import { ensureBlobRow, insertConversationRows, readConversationRows, restoreConflict } from '../store/restore.js';
import { listDeletionCertificates } from '../store/retention.js';
import { archiveTables, copyTable, insertRowsIn } from '../store/snapshot.js';
import type { OpenedBackup } from './backup.js';
import { verifyArchive } from './verify.js';

export interface RestoreResult {
  conversationId: number;
  events: number;
  blobs: number;
  /** Matter references the conversation was linked to that the live store does not have. */
  skippedLinks: string[];
}

/**
 * Restores one conversation from an opened backup into the live store, leaving everything else
 * as it is: its events (chain checked before anything is written), media and relayed mail, reply
 * commands and statuses, matter links (by reference) and import records, in one transaction.
 * Refuses when the conversation, or a newer one for the same chat, is live.
 */
export async function restoreConversation(options: {
  live: Executor;
  /** The live blob store, whichever is configured (a directory or a bucket). */
  liveBlobs: BlobStore;
  backup: OpenedBackup;
  chatId: string;
  audit: AuditTrail;
  actor: { actor: string; source: string };
  /**
   * Why a conversation deleted here (under retention, or erased at the client's request) is to
   * be brought back all the same, e.g. a hold that came after a deletion in error. Without it
   * such a restore is refused; with it, the reason and the certificate undone go on record.
   */
  undoDeletion?: string;
}): Promise<RestoreResult> {
  const opened = openSqlite(path.join(options.backup.dir, 'database.sqlite'));
  try {
    const rows = await readConversationRows(opened.db, options.chatId);
    if (!rows) throw new NotFoundError(`the backup made ${options.backup.manifest.createdAt} has no conversation ${options.chatId}`);
    const conflict = await restoreConflict(options.live, rows);
    if (conflict) throw new ConflictError('restore_conflict', conflict);
    // The latest certificate, if the conversation was deleted here (retention or erasure).
    const deletion = (await listDeletionCertificates(options.live, options.chatId)).at(-1);
    if (deletion && options.undoDeletion === undefined) {
      throw new ConflictError(
        'restore_deleted',
        `conversation ${options.chatId} was deleted here on ${new Date(deletion.deletedAt).toISOString()} (${deletion.reason}; certificate sha256:${deletion.sha256}), and a backup does not bring back what was deleted; nothing was restored (only where the deletion itself was wrong: --undo-deletion REASON, which goes on record)`,
      );
    }

    const checker = new ChainChecker(rows.conversation.chat_key);
    for (const row of rows.events) checker.add(toScanned(row));
    const problems = checker.finish(rows.conversation.last_seq, rows.conversation.chain_head);
    if (problems.length > 0) throw new BadInputError('backup_chain_broken', `the backup's copy of ${options.chatId} does not verify (event ${problems[0]!.seq}: ${problems[0]!.detail}); nothing was restored`);

    const hashes = new Set<string>([...rows.attachments.flatMap((a) => (a.sha256 ? [a.sha256] : [])), ...rows.relays.map((r) => r.raw_sha256)]);
    const blobs = new Map<string, { size: number; content?: Buffer }>();
    const backupBlobs = options.backup.blobsIn(opened.db);
    const live = options.liveBlobs;
    for (const hash of hashes) {
      const bytes = await backupBlobs.get(hash).catch((error: unknown) => {
        throw new BadInputError('backup_incomplete', `the backup's blob ${hash.slice(0, 12)}… of ${options.chatId} cannot be read (${error instanceof Error ? error.message : String(error)}); nothing was restored`);
      });
      if (sha256(bytes).toString('hex') !== hash) throw new BadInputError('backup_incomplete', `blob ${hash.slice(0, 12)}… in the backup does not match its hash`);
      // A blob the backup kept in its row goes back into its row, sealed with the live keys (which
      // need not be the backup's); the others go back into the live blob store.
      if (live instanceof InlineBlobStore && (await backupBlobs.keeps(hash))) blobs.set(hash, { size: bytes.length, content: live.forRow(bytes, hash) });
      else {
        await live.put(bytes);
        blobs.set(hash, { size: bytes.length });
      }
    }
    const now = Date.now();
    const { conversationId, skippedLinks } = await options.live.transaction().execute(async (tx) => {
      for (const [hash, { size, content }] of blobs) await ensureBlobRow(tx, hash, size, now, content);
      return insertConversationRows(tx, rows);
    });
    await options.audit.record({
      ...options.actor,
      action: 'restore',
      target: `conversation:${options.chatId}`,
      details: {
        backupCreatedAt: options.backup.manifest.createdAt,
        events: rows.events.length,
        blobs: hashes.size,
        skippedLinks: skippedLinks.join(','),
        ...(deletion ? { undoesDeletion: `sha256:${deletion.sha256}`, undoReason: options.undoDeletion ?? '' } : {}),
      },
    });
    return { conversationId, events: rows.events.length, blobs: hashes.size, skippedLinks };
  } finally {
    await opened.close();
  }
}

export interface StoreRestoreResult {
  conversations: number;
  events: number;
  blobs: number;
  auditEntries: number;
}

/**
 * Restores a whole backup into a new, empty store: what a firm does after losing the bridge's
 * machine or database. Every archived table comes back row for row with its ids (conversations,
 * events and their chains, media and relayed mail, replies, statuses, matters and their members
 * and links, imports, checkpoints, the audit trail, holds and deletion certificates, pending
 * jobs), so chains, checkpoints and the audit trail's links hold as they did; the search index is
 * rebuilt as the events go in. Blobs are re-sealed with the live store's data keys.
 *
 * The backup is verified first, against `trustedKeys` as `wa-bridge verify` would, and nothing is
 * written unless it holds. A live store holding any archived row is refused, inside the restore's
 * transaction: merging two archives would break the chains of both (one conversation at a time is
 * `restoreConversation`). Callers check with `refuseOccupied` before they open the backup, which
 * for a large one takes a while. The rows go in one transaction, so a failure leaves the store
 * empty; only blob files already put in the configured store may stay, unreferenced.
 */
export async function restoreStore(options: {
  live: Executor;
  liveBlobs: BlobStore;
  backup: OpenedBackup;
  trustedKeys: readonly string[];
  audit: AuditTrail;
  actor: { actor: string; source: string };
  /** Rows restored so far, of all the backup's archived rows (after the backup has verified). */
  onProgress?: (done: number, total: number) => void;
}): Promise<StoreRestoreResult> {
  const opened = openSqlite(path.join(options.backup.dir, 'database.sqlite'));
  try {
    const backupBlobs = options.backup.blobsIn(opened.db);
    const report = await verifyArchive({ db: opened.db, blobs: backupBlobs, trustedKeys: options.trustedKeys });
    if (!report.ok) {
      const first = report.problems[0]!;
      const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem(s); wa-bridge backup verify lists them)` : '';
      // On a new machine the data dir's checkpoint key is new too: the old one's public key is what to trust.
      const untrusted = report.problems.some((problem) => problem.area === 'checkpoint' && problem.detail.includes('does not trust'));
      const hint = untrusted ? ' (on a new machine, name the key the old one signed with: --trusted-key KEY, as `wa-bridge checkpoint` printed it there, or put its keys/checkpoint.pem in the data dir)' : '';
      throw new BadInputError('backup_does_not_verify', `the backup made ${options.backup.manifest.createdAt} does not verify: [${first.area}] ${first.detail}${more}; nothing was restored${hint}`);
    }

    const live = options.liveBlobs;
    const restoring = archiveTables.filter((table) => table !== 'data_keys');
    let total = 0;
    for (const table of restoring) total += Number((await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(opened.db)).rows[0]!.n);
    let done = 0;
    const restored = (rows: number) => options.onProgress?.((done += rows), total);
    let blobs = 0;
    await options.live.transaction().execute(async (tx) => {
      await refuseOccupied(tx);
      for (const table of restoring) {
        if (table !== 'blobs') {
          await copyTable(opened.db, table, async (rows) => {
            await insertRowsIn(tx, table, rows);
            restored(rows.length);
          });
          continue;
        }
        await copyTable(opened.db, table, async (rows) => {
          const rowsBack: Array<Record<string, unknown>> = [];
          for (const row of rows as Array<{ sha256: string; size: number; created_at: number; content: Buffer | null }>) {
            const bytes = await backupBlobs.get(row.sha256);
            if (sha256(bytes).toString('hex') !== row.sha256) throw new BadInputError('backup_incomplete', `blob ${row.sha256.slice(0, 12)}… in the backup does not match its hash; nothing was restored`);
            // A blob the backup kept in its row goes back into its row, every other one into the
            // live blob store; both sealed with the live keys, which need not be the backup's.
            let content: Buffer | null = null;
            if (row.content !== null && live instanceof InlineBlobStore) content = live.forRow(bytes, row.sha256);
            else await live.put(bytes);
            rowsBack.push({ sha256: row.sha256, size: row.size, created_at: row.created_at, content });
          }
          await insertRowsIn(tx, table, rowsBack);
          blobs += rowsBack.length;
          restored(rowsBack.length);
        });
      }
      // The search index was rebuilt from the events alone: documents' text is read into it again.
      await tx.updateTable('attachments').set({ text_state: 'pending' }).where('text_state', 'is not', null).execute();
      if (dialectOf(tx) === 'postgres') {
        // Rows went in with their ids: each identity continues after the highest one restored.
        const identities = await sql<{ table_name: string; sequence: string }>`
          SELECT table_name, pg_get_serial_sequence(quote_ident(table_name), 'id') AS sequence FROM information_schema.columns
          WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'`.execute(tx);
        const restoredTables = new Set<string>(archiveTables);
        for (const { table_name: table, sequence } of identities.rows) {
          if (restoredTables.has(table)) await sql`SELECT setval(${sequence}::regclass, max(id)) FROM ${sql.table(table)} HAVING max(id) IS NOT NULL`.execute(tx);
        }
      }
    });
    await options.audit.record({
      ...options.actor,
      action: 'restore',
      target: 'store',
      details: { backupCreatedAt: options.backup.manifest.createdAt, conversations: report.conversations, events: report.events, blobs, auditEntries: report.auditEntries },
    });
    return { conversations: report.conversations, events: report.events, blobs, auditEntries: report.auditEntries };
  } finally {
    await opened.close();
  }
}

/** Refuses a store holding any archived row: a whole restore goes only into a new, empty store. */
export async function refuseOccupied(db: Executor): Promise<void> {
  const occupied: string[] = [];
  for (const table of archiveTables) {
    // Data keys are the live store's own (made when its blob store first opened), not archive rows.
    if (table === 'data_keys') continue;
    const row = await sql<{ one: number }>`SELECT 1 AS one FROM ${sql.table(table)} LIMIT 1`.execute(db);
    if (row.rows.length > 0) occupied.push(table);
  }
  if (occupied.length === 0) return;
  throw new ConflictError(
    'restore_store_not_empty',
    `the live store is not empty (it has rows in ${occupied.join(', ')}); a whole backup restores only into a new, empty store (a new WA_BRIDGE_DATA_DIR or database), and one conversation with --conversation; nothing was restored`,
  );
}
