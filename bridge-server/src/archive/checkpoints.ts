import { checkpointDigest, checkpointHeadsJson, checkpointPayload, type CheckpointHead } from '../core/chain-check.js';
import { sha256 } from '../core/ids.js';
import { insertCheckpoint, latestCheckpoint, listConversationHeads, type CheckpointRow } from '../store/archive.js';
import { auditHead } from '../store/audit.js';
import type { Executor } from '../store/executor.js';
import { repeatHere, type Repeat, type Schedule } from './schedule.js';
import type { CheckpointKey } from './signing-key.js';
import { lockChain } from '../store/dialect.js';

export type CheckpointReason = 'scheduled' | 'on_demand';

/** The checkpoint head that stands for the audit trail rather than a conversation. */
export const auditTrailHeadId = 0;

/** The digest the next checkpoint names as its previous one. */
export function digestOf(row: Pick<CheckpointRow, 'previousSha256' | 'createdAt' | 'reason' | 'headsSha256'>): string {
  return checkpointDigest(checkpointPayload(row));
}

/**
 * Signs the chain heads of every conversation as they stand, in one transaction so the heads
 * and the link to the previous checkpoint are read at the same moment.
 */
export async function writeCheckpoint(db: Executor, key: CheckpointKey, reason: CheckpointReason, now: number = Date.now()): Promise<CheckpointRow> {
  return db.transaction().execute(async (tx) => {
    await lockChain(tx, 'checkpoints');
    const heads: CheckpointHead[] = (await listConversationHeads(tx)).map((c) => ({ conversationId: c.id, chatKey: c.chatKey, seq: c.lastSeq, head: c.chainHead }));
    // The audit trail's newest link rides along as conversation 0, so removing its latest
    // entries (which no later link would betray) is caught too.
    const audit = await auditHead(tx);
    if (audit) heads.push({ conversationId: auditTrailHeadId, chatKey: 'audit-trail', seq: audit.id, head: audit.entrySha256 });
    const previous = await latestCheckpoint(tx);
    const headsJson = checkpointHeadsJson(heads);
    const fields = { previousSha256: previous ? digestOf(previous) : '', createdAt: now, reason, headsSha256: sha256(headsJson).toString('hex') };
    const row = { ...fields, headsJson, publicKey: key.publicKey, signature: key.sign(checkpointPayload(fields)) };
    const id = await insertCheckpoint(tx, row);
    return { id, ...row };
  });
}

/**
 * Checkpoints at least every `intervalMs`: one at start when the newest is older than that (or
 * there is none), then one every interval.
 */
export function scheduleCheckpoints(options: { db: Executor; key: CheckpointKey; intervalMs: number; onError: (error: Error) => void; onWritten?: (row: CheckpointRow) => void; repeat?: Repeat }): Schedule {
  return (options.repeat ?? repeatHere)('checkpoint', {
    intervalMs: options.intervalMs,
    isDue: async () => {
      const latest = await latestCheckpoint(options.db);
      return !latest || Date.now() - latest.createdAt >= options.intervalMs;
    },
    run: async () => options.onWritten?.(await writeCheckpoint(options.db, options.key, 'scheduled')),
    onError: options.onError,
  });
}
