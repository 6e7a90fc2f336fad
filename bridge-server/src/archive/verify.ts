import { ChainChecker, checkpointPayload, type ChainProblem, type CheckpointHead, type PinnedHead } from '../core/chain-check.js';
import { auditLink } from '../core/audit.js';
import { isBridgeError } from '../core/errors.js';
import { sha256 } from '../core/ids.js';
import { countOrphanEvents, listCheckpoints, listConversationHeads, listDanglingBlobRefs, scanBlobs, scanEvents, type CheckpointRow } from '../store/archive.js';
import { countAuditAfter, scanAudit } from '../store/audit.js';
import type { Executor } from '../store/executor.js';
import { listDeletedConversations } from '../store/retention.js';
import { auditTrailHeadId, digestOf } from './checkpoints.js';
import { verifyCheckpointSignature } from './signing-key.js';

export type VerifyArea = 'chain' | 'checkpoint' | 'media' | 'store' | 'audit';

export interface VerifyProblem {
  area: VerifyArea;
  conversationId?: number;
  /** The conversation's chat id, as export, hold and restore take it. */
  chatId?: string;
  chatKey?: string;
  seq?: number;
  waMessageId?: string;
  checkpointId?: number;
  sha256?: string;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  conversations: number;
  events: number;
  blobs: number;
  checkpoints: number;
  auditEntries: number;
  /**
   * What no checkpoint has signed yet: events and audit entries written after the newest
   * checkpoint that covers them. Their chains are checked all the same, but whoever can write to
   * the store could remove the newest of them and leave a chain that still holds.
   */
  unsigned: { events: number; auditEntries: number; newestCheckpointAt: number | null };
  problems: VerifyProblem[];
}

/** What verify reads blobs through: the content-addressed file store. */
export interface BlobReader {
  get(hash: string): Promise<Buffer>;
}

/**
 * Recomputes everything the archive can prove: every conversation's hash chain from its stored
 * events, every checkpoint's signature and the heads it fixed, every stored blob's hash and size,
 * and that nothing points at a blob that is gone. Per conversation it names the first broken
 * link; `trustedKeys` are the public keys whose checkpoint signatures count.
 */
export async function verifyArchive(deps: { db: Executor; blobs: BlobReader; trustedKeys: readonly string[] }): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const checkpoints = await listCheckpoints(deps.db);
  const pins = checkCheckpoints(checkpoints, new Set(deps.trustedKeys), problems);

  const auditPins = pins.get(auditTrailHeadId) ?? [];
  pins.delete(auditTrailHeadId);
  const auditEntries = await checkAuditChain(deps.db, auditPins, problems);
  const auditSignedTo = Math.max(0, ...auditPins.map((pin) => pin.seq));
  const unsignedAudit = await countAuditAfter(deps.db, auditSignedTo);

  const conversations = await listConversationHeads(deps.db);
  const byId = new Map(conversations.map((c) => [c.id, c]));
  // Conversations removed by retention or an erasure leave a certificate. Heads that checkpoints
  // signed before the removal belong to the removed conversation (its id may since be reused):
  // they are accounted for when the certificate's last event covers them.
  const deleted = await listDeletedConversations(deps.db);
  for (const [conversationId, pinned] of pins) {
    const certificate = deleted.get(conversationId);
    if (!certificate) continue;
    const before = pinned.filter((pin) => pin.createdAt <= certificate.deletedAt);
    for (const pin of before) {
      if (pin.seq > certificate.lastSeq || (pin.seq === certificate.lastSeq && pin.head !== certificate.chainHead)) {
        problems.push({ area: 'checkpoint', conversationId, checkpointId: pin.checkpointId, detail: `checkpoint ${pin.checkpointId} signed event ${pin.seq} of conversation ${certificate.chatId}, which its deletion certificate does not account for` });
      }
    }
    pins.set(conversationId, pinned.filter((pin) => pin.createdAt > certificate.deletedAt));
  }
  for (const [conversationId, pinned] of pins) {
    if (pinned.length === 0) continue;
    const conversation = byId.get(conversationId);
    if (!conversation) problems.push({ area: 'checkpoint', conversationId, checkpointId: pinned[0]!.checkpointId, detail: `checkpoint ${pinned[0]!.checkpointId} signed conversation ${conversationId}, which is no longer in the archive` });
    else if (conversation.chatKey !== pinned[0]!.chatKey) problems.push({ area: 'checkpoint', conversationId, chatKey: conversation.chatKey, checkpointId: pinned[0]!.checkpointId, detail: `checkpoint ${pinned[0]!.checkpointId} signed chat ${pinned[0]!.chatKey} for this conversation, the store says ${conversation.chatKey}` });
  }

  let events = 0;
  let current: { id: number; chatKey: string; checker: ChainChecker } | undefined;
  const seen = new Set<number>();
  const finish = () => {
    if (!current) return;
    const conversation = byId.get(current.id)!;
    reportChain(current.id, current.chatKey, current.checker.finish(conversation.lastSeq, conversation.chainHead), problems);
  };
  for await (const event of scanEvents(deps.db)) {
    events += 1;
    if (current?.id !== event.conversationId) {
      finish();
      const conversation = byId.get(event.conversationId);
      // Events whose conversation row is gone are counted below, once.
      current = conversation ? { id: conversation.id, chatKey: conversation.chatKey, checker: new ChainChecker(conversation.chatKey, pins.get(conversation.id)?.map(toPin) ?? []) } : undefined;
      if (conversation) seen.add(conversation.id);
    }
    current?.checker.add(event);
  }
  finish();
  for (const conversation of conversations) {
    if (seen.has(conversation.id)) continue;
    const checker = new ChainChecker(conversation.chatKey, pins.get(conversation.id)?.map(toPin) ?? []);
    reportChain(conversation.id, conversation.chatKey, checker.finish(conversation.lastSeq, conversation.chainHead), problems);
  }
  const orphans = await countOrphanEvents(deps.db);
  if (orphans > 0) problems.push({ area: 'store', detail: `${orphans} event(s) belong to a conversation that is no longer in the archive` });

  let blobs = 0;
  // Reading files between rows is fine: only another query would collide with the open stream.
  for await (const blob of scanBlobs(deps.db)) {
    blobs += 1;
    const problem = await checkBlob(deps.blobs, blob);
    if (problem) problems.push({ area: 'media', sha256: blob.sha256, detail: problem });
  }
  for (const ref of await listDanglingBlobRefs(deps.db)) {
    problems.push({ area: 'media', sha256: ref.sha256, detail: `${ref.what === 'mail' ? 'relayed mail' : 'attachment'} ${ref.id} names blob ${ref.sha256.slice(0, 12)}…, which the blob table no longer lists` });
  }

  let unsignedEvents = 0;
  for (const conversation of conversations) unsignedEvents += conversation.lastSeq - Math.max(0, ...(pins.get(conversation.id) ?? []).map((pin) => pin.seq));
  const unsigned = { events: Math.max(0, unsignedEvents), auditEntries: unsignedAudit, newestCheckpointAt: checkpoints.at(-1)?.createdAt ?? null };
  for (const problem of problems) {
    const chatId = problem.conversationId === undefined ? undefined : byId.get(problem.conversationId)?.chatId;
    if (chatId !== undefined) problem.chatId = chatId;
  }
  return { ok: problems.length === 0, conversations: conversations.length, events, blobs, checkpoints: checkpoints.length, auditEntries, unsigned, problems };
}

type Pinned = PinnedHead & { chatKey: string; createdAt: number };
const toPin = ({ seq, head, checkpointId }: Pinned): PinnedHead => ({ seq, head, checkpointId });

/** Checks each checkpoint on its own and as a chain; returns the heads of the sound ones by conversation. */
function checkCheckpoints(checkpoints: readonly CheckpointRow[], trusted: ReadonlySet<string>, problems: VerifyProblem[]): Map<number, Pinned[]> {
  const pins = new Map<number, Pinned[]>();
  let previousDigest = '';
  for (const checkpoint of checkpoints) {
    const fail = (detail: string) => problems.push({ area: 'checkpoint', checkpointId: checkpoint.id, detail: `checkpoint ${checkpoint.id}: ${detail}` });
    if (checkpoint.previousSha256 !== previousDigest) fail('does not follow the checkpoint before it (one was removed or changed)');
    previousDigest = digestOf(checkpoint);
    if (!trusted.has(checkpoint.publicKey)) {
      fail('is signed by a key this archive does not trust');
      continue;
    }
    if (!verifyCheckpointSignature(checkpoint.publicKey, checkpointPayload(checkpoint), checkpoint.signature)) {
      fail('its signature does not verify: the checkpoint was changed after it was signed');
      continue;
    }
    if (sha256(checkpoint.headsJson).toString('hex') !== checkpoint.headsSha256) {
      fail('its list of chain heads was changed after it was signed');
      continue;
    }
    let heads: CheckpointHead[];
    try {
      heads = JSON.parse(checkpoint.headsJson) as CheckpointHead[];
    } catch {
      fail('its list of chain heads cannot be read');
      continue;
    }
    for (const head of heads) {
      if (head.seq === 0) continue;
      pins.set(head.conversationId, [...(pins.get(head.conversationId) ?? []), { seq: head.seq, head: head.head, checkpointId: checkpoint.id, chatKey: head.chatKey, createdAt: checkpoint.createdAt }]);
    }
  }
  return pins;
}

function reportChain(conversationId: number, chatKey: string, found: ChainProblem[], problems: VerifyProblem[]): void {
  const first = found[0];
  if (!first) return;
  const more = found.length > 1 ? ` (and ${found.length - 1} more problem(s) after it in this conversation)` : '';
  problems.push({
    area: first.kind.startsWith('checkpoint') ? 'checkpoint' : 'chain',
    conversationId,
    chatKey,
    seq: first.seq,
    ...(first.waMessageId ? { waMessageId: first.waMessageId } : {}),
    detail: `${first.detail}${more}`,
  });
}

async function checkBlob(reader: BlobReader, blob: { sha256: string; size: number }): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await reader.get(blob.sha256);
  } catch (error) {
    if (isBridgeError(error) && error.code === 'not_found') return `blob ${blob.sha256.slice(0, 12)}… is listed but its file is missing`;
    return error instanceof Error ? error.message : String(error);
  }
  const actual = sha256(bytes).toString('hex');
  if (actual !== blob.sha256) return `blob ${blob.sha256.slice(0, 12)}… no longer has that hash (its bytes hash to ${actual.slice(0, 12)}…)`;
  if (bytes.length !== blob.size) return `blob ${blob.sha256.slice(0, 12)}… is ${bytes.length} bytes, the archive recorded ${blob.size}`;
  return undefined;
}

/**
 * The audit trail's chain: each entry's link recomputed from the stored link before it, and
 * the entries signed checkpoints fixed still there with the same link. Names the first break.
 */
async function checkAuditChain(db: Executor, pins: readonly Pinned[], problems: VerifyProblem[]): Promise<number> {
  const pinned = new Map(pins.map((pin) => [pin.seq, pin]));
  let previous = '';
  let count = 0;
  let reported = false;
  const report = (detail: string) => {
    if (!reported) problems.push({ area: 'audit', detail });
    reported = true;
  };
  for await (const entry of scanAudit(db)) {
    count += 1;
    if (entry.prevSha256 !== previous) report(`audit entry ${entry.id} does not follow the entry before it: an entry was removed or its link changed`);
    else if (auditLink(entry.prevSha256, entry) !== entry.entrySha256) report(`audit entry ${entry.id} (${entry.action} by ${entry.actor}) no longer hashes to its link: the entry was changed`);
    const pin = pinned.get(entry.id);
    if (pin && pin.head !== entry.entrySha256) report(`audit entry ${entry.id} is not the entry checkpoint ${pin.checkpointId} signed`);
    pinned.delete(entry.id);
    previous = entry.entrySha256;
  }
  for (const pin of pinned.values()) report(`checkpoint ${pin.checkpointId} signed audit entry ${pin.seq}, which is no longer in the trail`);
  return count;
}
