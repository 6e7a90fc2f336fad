import { canonicalJson, canonicalRecord, chainLink } from './chain.js';
import { sha256 } from './ids.js';
import type { EventRecord } from './records.js';

/**
 * Recomputing a conversation's hash chain from what is stored, to find the first place where
 * the archive no longer matches what was written. Pure: the caller streams the stored events in
 * and reports what comes out.
 */

export type ChainProblemKind =
  | 'missing_event'
  | 'link_mismatch'
  | 'head_mismatch'
  | 'checkpoint_mismatch'
  | 'checkpoint_event_missing';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** The event's place in its conversation (1, 2, …); for head problems the conversation's last seq. */
  seq: number;
  waMessageId?: string;
  /** For a person: what differs, with both values where there are two. */
  detail: string;
}

/** A chain head a signed checkpoint fixed: the event at `seq` must still carry `head`. */
export interface PinnedHead {
  seq: number;
  head: string;
  checkpointId: number;
}

/**
 * Checks one conversation's events in seq order. Each event's link is recomputed from the
 * previous event's *stored* link, so a changed record shows at that event alone, while a
 * changed stored link shows at that event and the next one; either way the first problem names
 * the first event that no longer matches.
 */
export class ChainChecker {
  private expectedSeq = 1;
  private previousLink = '';
  private readonly pins = new Map<number, PinnedHead[]>();
  private readonly problems: ChainProblem[] = [];
  /** The last event whose record and stored link disagree, until the next event says which of the two changed. */
  private unexplained: ChainProblem | undefined;
  /** The link the last event's record gives (from the stored link before it). */
  private priorComputed = '';

  constructor(
    private readonly chatKey: string,
    pinned: readonly PinnedHead[] = [],
  ) {
    for (const pin of pinned) this.pins.set(pin.seq, [...(this.pins.get(pin.seq) ?? []), pin]);
  }

  add(record: EventRecord): void {
    if (record.seq !== this.expectedSeq) {
      const gap = record.seq > this.expectedSeq ? `events ${this.expectedSeq}–${record.seq - 1} are missing` : `seq ${record.seq} appears twice or out of order`;
      this.problems.push({ kind: 'missing_event', seq: this.expectedSeq, detail: `expected event ${this.expectedSeq}, found ${record.seq}: ${gap}` });
    }
    const canonical = canonicalRecord(this.chatKey, record);
    const computed = chainLink(this.previousLink, canonical);
    // At an event before whose record and stored link disagreed, which of the two changed: a
    // stored link this event still chains on from is the one written then, so that event's record
    // was changed; if this event chains on from the link that event's record gives instead, the
    // stored link was replaced.
    const prior = this.unexplained;
    this.unexplained = undefined;
    const followsReplacedLink = prior !== undefined && chainLink(this.priorComputed, canonical) === record.chainHash;
    if (prior) {
      prior.detail +=
        computed === record.chainHash
          ? `: its stored link still leads on to event ${record.seq}, so the link is as written and the record itself (content, time, direction or ids) was changed`
          : followsReplacedLink
            ? `: event ${record.seq} chains on from the link this record gives, not from the stored one, so the stored link was replaced`
            : `: event ${record.seq} chains on from neither its stored link nor the one its record gives, so more than this event was changed`;
    }
    if (computed !== record.chainHash) {
      const problem: ChainProblem = {
        kind: 'link_mismatch',
        seq: record.seq,
        waMessageId: record.waMessageId,
        detail: `the stored ${record.kind} no longer hashes to its chain link (computed ${short(computed)}, stored ${short(record.chainHash)})${followsReplacedLink ? `: only because the stored link of event ${prior!.seq} was replaced; this event is as written` : ''}`,
      };
      this.problems.push(problem);
      if (!followsReplacedLink) this.unexplained = problem;
    }
    this.priorComputed = computed;
    for (const pin of this.pins.get(record.seq) ?? []) {
      if (pin.head !== record.chainHash) {
        this.problems.push({
          kind: 'checkpoint_mismatch',
          seq: record.seq,
          waMessageId: record.waMessageId,
          detail: `checkpoint ${pin.checkpointId} signed link ${short(pin.head)} for this event, the store holds ${short(record.chainHash)}`,
        });
      }
    }
    this.pins.delete(record.seq);
    this.previousLink = record.chainHash;
    this.expectedSeq = record.seq + 1;
  }

  /** Ends the conversation: its recorded last seq and head must be the last event's. */
  finish(lastSeq: number, chainHead: string): ChainProblem[] {
    if (this.unexplained) {
      this.unexplained.detail +=
        chainHead === this.previousLink
          ? `: its stored link is still the conversation's chain head, so the link is as written and the record itself (content, time, direction or ids) was changed`
          : `: the record or its link was changed`;
      this.unexplained = undefined;
    }
    const lastStored = this.expectedSeq - 1;
    if (lastSeq !== lastStored) {
      this.problems.push({ kind: 'missing_event', seq: lastSeq, detail: `the conversation records ${lastSeq} events, the archive holds ${lastStored}` });
    } else if (chainHead !== this.previousLink) {
      this.problems.push({ kind: 'head_mismatch', seq: lastSeq, detail: `the conversation's chain head ${short(chainHead)} is not the last event's link ${short(this.previousLink)}` });
    }
    for (const pins of this.pins.values()) {
      for (const pin of pins) {
        this.problems.push({ kind: 'checkpoint_event_missing', seq: pin.seq, detail: `checkpoint ${pin.checkpointId} signed event ${pin.seq}, which is no longer in the archive` });
      }
    }
    this.pins.clear();
    return this.problems;
  }
}

/** One conversation's head as a checkpoint records it. */
export interface CheckpointHead {
  conversationId: number;
  chatKey: string;
  seq: number;
  head: string;
}

/** The canonical text of a checkpoint's heads: sorted by conversation, keys sorted. */
export function checkpointHeadsJson(heads: readonly CheckpointHead[]): string {
  return canonicalJson([...heads].sort((a, b) => a.conversationId - b.conversationId));
}

/**
 * The bytes a checkpoint's signature covers. It names the previous checkpoint's digest, so
 * checkpoints form their own chain: removing one in the middle breaks the next.
 */
export function checkpointPayload(fields: { previousSha256: string; createdAt: number; reason: string; headsSha256: string }): string {
  return `wa-bridge-checkpoint:v1\n${fields.previousSha256}\n${fields.createdAt}\n${fields.reason}\n${fields.headsSha256}`;
}

export function checkpointDigest(payload: string): string {
  return sha256(payload).toString('hex');
}

function short(hash: string): string {
  return hash === '' ? '(none)' : `${hash.slice(0, 12)}…`;
}
