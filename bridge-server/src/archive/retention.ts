import { hostname } from 'node:os';
import type { AuditTrail } from '../core/audit.js';
import { canonicalJson } from '../core/chain.js';
import { sha256 } from '../core/ids.js';
import { decideErasure, decideRetention, type RetentionFacts, type RetentionPolicy } from '../core/retention.js';
import { lastRecordedAt } from '../store/audit.js';
import type { Executor } from '../store/executor.js';
import { deleteConversation, describeConversationContents, listRetentionFacts, sweepDeleted, type Sweep } from '../store/retention.js';
import { repeatHere, type Repeat, type Schedule } from './schedule.js';

export interface RetentionOutcome {
  chatId: string;
  action: 'deleted' | 'would_delete' | 'kept' | 'refused';
  /** The rule that expired it, or why it is kept or refused. */
  why: string;
  certificateSha256?: string;
  /** Kept only because a legal hold covers it: without the hold its period has run out. */
  held?: boolean;
}

export interface RetentionDeps {
  db: Executor;
  /** Removes a blob no conversation uses any more from the blob store (a directory or a bucket). */
  removeBlob: (sha256: string) => Promise<void>;
  audit: AuditTrail;
  actor: { actor: string; source: string; actorName?: string; roles?: string[] };
  now: number;
  /** After deleting, how the deleted rows are taken out of the store's files (see sweepDeleted); default prune. */
  sweep?: 'prune' | 'rewrite';
}

/** What a retention run or an erasure request decided and did. */
export interface RetentionRun {
  outcomes: RetentionOutcome[];
  /** How the deleted rows' bytes were dealt with; null when nothing was deleted. */
  swept: Sweep | null;
  /** Why pruning failed, when it did: the rows then stay as dead versions until autovacuum. */
  sweepProblem?: string;
}

/**
 * One retention run: every conversation whose period has run out and that no hold covers is
 * deleted with a certificate (what, under which rule, the hashes that identified it), recorded in
 * the audit trail. A dry run decides the same and deletes nothing (and says so in the trail).
 */
export async function runRetention(deps: RetentionDeps, policy: RetentionPolicy, dryRun: boolean): Promise<RetentionRun> {
  const outcomes: RetentionOutcome[] = [];
  for (const facts of await listRetentionFacts(deps.db)) {
    const decision = decideRetention(facts, policy, deps.now);
    if (!decision.expired) {
      // A hold decides first; what the rules alone would do is said too, so that a run shows
      // which deletions a hold is holding back.
      const unheld = facts.holds.length > 0 ? decideRetention({ ...facts, holds: [] }, policy, deps.now) : undefined;
      if (unheld?.expired) outcomes.push({ chatId: facts.chatId, action: 'kept', why: `${decision.reason} (without it: ${unheld.rule})`, held: true });
      else outcomes.push({ chatId: facts.chatId, action: 'kept', why: decision.reason });
      continue;
    }
    if (dryRun) {
      outcomes.push({ chatId: facts.chatId, action: 'would_delete', why: decision.rule });
      continue;
    }
    const certificateSha256 = await deleteWithCertificate(deps, facts, 'retention', { rule: decision.rule, matters: decision.matters.map((m) => ({ ...m, closedAt: iso(m.closedAt), retainUntil: iso(m.retainUntil) })) });
    outcomes.push({ chatId: facts.chatId, action: 'deleted', why: decision.rule, certificateSha256 });
  }
  const deleted = outcomes.filter((o) => o.action === 'deleted').length;
  const sweep = await sweepAfter(deps, deleted);
  await deps.audit.record({
    ...deps.actor,
    at: deps.now,
    action: dryRun ? 'retention.dry_run' : 'retention.delete',
    details: { conversations: outcomes.length, deleted, wouldDelete: outcomes.filter((o) => o.action === 'would_delete').length, held: outcomes.filter((o) => o.held === true).length, ...sweepDetails(sweep) },
  });
  return { outcomes, ...sweep };
}

/**
 * A data subject's erasure request over the conversations given (found by their number):
 * each is erased only where no retention duty or hold applies; otherwise refused with the reason.
 */
export async function eraseConversations(deps: RetentionDeps, policy: RetentionPolicy, conversationIds: readonly number[], request: string, dryRun: boolean): Promise<RetentionRun> {
  const outcomes: RetentionOutcome[] = [];
  for (const facts of await listRetentionFacts(deps.db, conversationIds)) {
    const decision = decideErasure(facts, policy, deps.now);
    if (!decision.allowed) {
      outcomes.push({ chatId: facts.chatId, action: 'refused', why: decision.reason });
      // Each refusal is on record with its reason, as each erasure is with its certificate.
      if (!dryRun) await deps.audit.record({ ...deps.actor, at: deps.now, action: 'gdpr.erasure', target: `conversation:${facts.chatId}`, details: { request, outcome: 'refused', reason: decision.reason } });
    } else if (dryRun) {
      outcomes.push({ chatId: facts.chatId, action: 'would_delete', why: `erasure request ${request}` });
    } else {
      const certificateSha256 = await deleteWithCertificate(deps, facts, 'erasure', { rule: `erasure request ${request}` });
      outcomes.push({ chatId: facts.chatId, action: 'deleted', why: `erasure request ${request}`, certificateSha256 });
    }
  }
  const erased = outcomes.filter((o) => o.action === 'deleted').length;
  const sweep = await sweepAfter(deps, erased);
  await deps.audit.record({
    ...deps.actor,
    at: deps.now,
    action: 'gdpr.erasure',
    target: `request:${request}`,
    details: { dryRun, erased, refused: outcomes.filter((o) => o.action === 'refused').length, ...sweepDetails(sweep) },
  });
  return { outcomes, ...sweep };
}

/**
 * Once conversations are deleted, their rows' remains go too. Pruning is done for the firm and
 * may fail (a lock held too long, say) without undoing the deletions, which are on record: the
 * run says so. A rewrite was asked for in person, so its failure is the command's.
 */
async function sweepAfter(deps: RetentionDeps, deleted: number): Promise<Pick<RetentionRun, 'swept' | 'sweepProblem'>> {
  if (deleted === 0) return { swept: null };
  const how = deps.sweep ?? 'prune';
  if (how === 'rewrite') return { swept: await sweepDeleted(deps.db, how) };
  try {
    return { swept: await sweepDeleted(deps.db, how) };
  } catch (error) {
    return { swept: null, sweepProblem: error instanceof Error ? error.message : String(error) };
  }
}

const sweepDetails = (sweep: Pick<RetentionRun, 'swept' | 'sweepProblem'>): Record<string, string> => (sweep.sweepProblem ? { sweep: `failed: ${sweep.sweepProblem}` } : sweep.swept ? { sweep: sweep.swept } : {});

async function deleteWithCertificate(deps: RetentionDeps, facts: RetentionFacts, reason: 'retention' | 'erasure', grounds: Record<string, unknown>): Promise<string> {
  const contents = await describeConversationContents(deps.db, facts.conversationId);
  // The certificate names the conversation by ids and hashes only: it outlives the personal data.
  const certificate = {
    v: 1,
    reason,
    ...grounds,
    conversation: { chatId: contents.chatId, chatKeySha256: sha256(contents.chatKey).toString('hex'), openedAt: iso(contents.openedAt), lastActivityAt: iso(facts.lastActivityAt), events: contents.eventLinks.length, lastSeq: contents.lastSeq, chainHead: contents.chainHead },
    eventLinksSha256: sha256(contents.eventLinks.join('\n')).toString('hex'),
    media: contents.mediaSha256,
    mails: contents.mailSha256,
    deletedAt: iso(deps.now),
    deletedBy: deps.actor.actor,
  };
  const json = canonicalJson(certificate);
  const certificateSha256 = sha256(json).toString('hex');
  const unused = await deleteConversation(deps.db, facts.conversationId, { chatId: contents.chatId, reason, deletedAt: deps.now, lastSeq: contents.lastSeq, chainHead: contents.chainHead, json, sha256: certificateSha256 });
  for (const hash of unused) await deps.removeBlob(hash);
  await deps.audit.record({
    ...deps.actor,
    at: deps.now,
    action: reason === 'retention' ? 'retention.delete' : 'gdpr.erasure',
    target: `conversation:${contents.chatId}`,
    details: { certificateSha256, events: contents.eventLinks.length, media: contents.mediaSha256.length, mails: contents.mailSha256.length, rule: String(grounds.rule) },
  });
  return certificateSha256;
}

const iso = (time: number) => new Date(time).toISOString();

const day = 24 * 3_600_000;

/**
 * Applies retention once a day in the bridge, as the `system` actor: at start when the last run
 * is more than a day old (or there was none), then daily.
 */
export function scheduleRetention(options: { db: Executor; blobs: { remove(hash: string): Promise<void> }; audit: AuditTrail; policy: RetentionPolicy; onError: (error: Error) => void; repeat?: Repeat }): Schedule {
  const actor = { actor: 'system', source: `bridge@${hostname()}` };
  return (options.repeat ?? repeatHere)('retention', {
    intervalMs: day,
    isDue: async () => {
      const last = await lastRecordedAt(options.db, 'retention.delete', actor.actor);
      return last === undefined || Date.now() - last >= day;
    },
    run: async () => {
      await runRetention({ db: options.db, removeBlob: (hash) => options.blobs.remove(hash), audit: options.audit, actor, now: Date.now() }, options.policy, false);
    },
    onError: options.onError,
  });
}
