import path from 'node:path';
import type { AuditTrail } from '../core/audit.js';
import { ChainChecker } from '../core/chain-check.js';
import { sha256 } from '../core/ids.js';
import { BadInputError, ConflictError, NotFoundError } from '../core/errors.js';
import type { BlobStore } from '../core/ports.js';
import { toScanned } from '../store/archive.js';
import { InlineBlobStore } from '../store/blob-inline.js';
import { openSqlite } from '../store/db.js';
import type { Executor } from '../store/executor.js';
import { ensureBlobRow, insertConversationRows, readConversationRows, restoreConflict } from '../store/restore.js';
import type { OpenedBackup } from './backup.js';

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
}): Promise<RestoreResult> {
  const opened = openSqlite(path.join(options.backup.dir, 'database.sqlite'));
  try {
    const rows = await readConversationRows(opened.db, options.chatId);
    if (!rows) throw new NotFoundError(`the backup made ${options.backup.manifest.createdAt} has no conversation ${options.chatId}`);
    const conflict = await restoreConflict(options.live, rows);
    if (conflict) throw new ConflictError('restore_conflict', conflict);

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
      details: { backupCreatedAt: options.backup.manifest.createdAt, events: rows.events.length, blobs: hashes.size, skippedLinks: skippedLinks.join(',') },
    });
    return { conversationId, events: rows.events.length, blobs: hashes.size, skippedLinks };
  } finally {
    await opened.close();
  }
}
