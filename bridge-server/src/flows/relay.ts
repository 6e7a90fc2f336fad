import type { InboundEvent } from '../core/events.js';
import { NotFoundError } from '../core/errors.js';
import { makeReplyToken } from '../core/ids.js';
import type { BlobStore, Clock, MailComposer, MailTransport, Outbox, Store } from '../core/ports.js';
import type { AttachmentRecord, ConversationRecord, EventKey, EventRecord, Job, PreparedRelay, RelayRecord } from '../core/records.js';
import { buildRelayMail, type RelayMailInput } from '../core/relay-mail.js';

export interface RelayDeps {
  store: Store;
  outbox: Outbox;
  blobs: BlobStore;
  composer: MailComposer;
  transport: MailTransport;
  clock: Clock;
  tenant: string;
  mailDomain: string;
  /** The firm's zone for times in mail bodies. */
  timeZone: string;
  mailbox: string;
  envelopeFrom: string;
  replySecret: Uint8Array;
  /** The relay's reads and writes for a whole run; defaults to one built on `store` and `outbox`. */
  runs?: RelayRunStore;
  /** Builds, composes and stores a relayed mail elsewhere (another thread); else `composer` and `blobs` do it here. */
  relayComposer?: RelayComposer;
  /** Attachment bytes one run may hold in memory at once (RUN_ATTACHMENT_BYTES unless given). */
  runAttachmentBytes?: number;
}

/**
 * A run composes all its mails before sending the first, so it holds their attachments and
 * their encoded copies in memory until it ends: a client who sends thirty videos in a row would
 * otherwise make one run of a few gigabytes. A run stops taking mails once their attachments
 * pass this many bytes (its first mail always goes, however large); the rest wait for the next
 * run, untried.
 */
export const RUN_ATTACHMENT_BYTES = 16 * 1024 * 1024;

/**
 * Turns a mail's facts into its stored bytes: same Message-ID and bytes as buildRelayMail +
 * compose + put. A small mail may come back with `inline` instead of being put in the blob
 * store: its bytes as stored (sealed when sealed), for its blob's row (see blob-inline.ts).
 */
export interface RelayComposer {
  composeRelay(input: RelayMailInput): Promise<{ messageId: string; raw: Buffer; rawSha256: string; inline?: Buffer }>;
}

/** How many earlier mails a References header names besides the root (RFC 5322 3.6.4). */
export const REFERENCES_DEPTH = 20;

/** The stored facts one relayed mail is built from. */
export interface RelayFacts {
  conversation: ConversationRecord;
  event: EventRecord | null;
  /** Up to REFERENCES_DEPTH events before `event`, oldest first. */
  previous: EventKey[];
  attachmentRows: AttachmentRecord[];
  related?: EventRecord;
}

/** Per job of a run: the relay already recorded, the facts to build it from, or why neither. */
export type LoadedRelay = { kind: 'existing'; relay: RelayRecord } | { kind: 'new'; facts: RelayFacts } | { kind: 'missing'; reason: string };


/**
 * What relaying a run of one conversation's mails needs from the store, a few statements per run
 * rather than per mail. Each write is one transaction.
 */
export interface RelayRunStore {
  /** For each event id (null: the cover mail) of one conversation, in the order given. */
  load(conversationId: number, eventIds: Array<number | null>): Promise<LoadedRelay[]>;
  /** Records the composed bytes of mails before their first send. */
  prepare(relays: PreparedRelay[]): Promise<void>;
  /** Marks mails sent and completes the jobs that are finished, together. */
  record(sent: Array<{ mailMessageId: string; sentAt: number; response: string }>, jobIds: number[]): Promise<void>;
}

export interface RelayOutcome {
  mailMessageId: string;
  /** False when the mail had already been sent and the job only caught up with that. */
  sent: boolean;
}

/**
 * The first `done` jobs are finished; when `error` is set, job `done` failed and later ones were
 * not tried; without it, any jobs after `done` were not tried either (the run reached its
 * attachment budget) and go back to wait for the next run.
 */
export interface RelayRunResult {
  done: number;
  outcomes: RelayOutcome[];
  error?: unknown;
}

/**
 * Runs one mail.relay job: composes the event's mail from stored facts (or reuses the bytes
 * prepared by an earlier attempt), hands it to the transport, then records the relay and
 * completes the job in one transaction. A crash between send and record resends the very same
 * bytes, which the mailbox de-duplicates on Message-ID.
 */
export async function relayEvent(deps: RelayDeps, job: Job<'mail.relay'>): Promise<RelayOutcome> {
  const result = await relayRun(deps, [job]);
  if ('error' in result) throw result.error;
  return result.outcomes[0]!;
}

/**
 * Relays a run of one conversation's queued mails, in order: loads their facts together, composes
 * the new ones and records all their bytes in one transaction before the first send, sends them
 * one after another, and stops at the first failure. The mails sent so far are then recorded sent
 * and their jobs completed in one transaction, so a failure in the middle neither loses the
 * earlier mails' record nor lets a later mail overtake the failed one.
 */
export async function relayRun(deps: RelayDeps, jobs: Array<Job<'mail.relay'>>): Promise<RelayRunResult> {
  const runs = deps.runs ?? storeRuns(deps.store, deps.outbox);
  const conversationId = jobs[0]!.payload.conversationId;
  const loaded = await runs.load(
    conversationId,
    jobs.map((job) => job.payload.eventId),
  );

  // Prepare as far as the first job that cannot be prepared; that job fails and stops the run.
  // Before that, the run may end early where its attachments pass their budget.
  let stop: unknown;
  let cut = loaded.findIndex((item) => item.kind === 'missing');
  if (cut < 0) cut = loaded.length;
  else stop = new NotFoundError((loaded[cut] as { reason: string }).reason);
  const budgetCut = withinAttachmentBudget(loaded, deps.runAttachmentBytes ?? RUN_ATTACHMENT_BYTES);
  if (budgetCut < cut) {
    cut = budgetCut;
    stop = undefined;
  }
  const prepared = await Promise.allSettled(loaded.slice(0, cut).map((item) => readyToSend(deps, item as Exclude<LoadedRelay, { kind: 'missing' }>)));
  const failedAt = prepared.findIndex((p) => p.status === 'rejected');
  if (failedAt >= 0) {
    cut = failedAt;
    stop = (prepared[failedAt] as PromiseRejectedResult).reason;
  }
  const ready = prepared.slice(0, cut).map((p) => (p as PromiseFulfilledResult<Ready>).value);
  const fresh = ready.flatMap((r) => (r.fresh ? [r.fresh] : []));
  if (fresh.length > 0) await runs.prepare(fresh);

  const outcomes: RelayOutcome[] = [];
  const sent: Array<{ mailMessageId: string; sentAt: number; response: string }> = [];
  for (const item of ready) {
    if (item.raw === undefined) {
      outcomes.push({ mailMessageId: item.mailMessageId, sent: false });
      continue;
    }
    try {
      const result = await deps.transport.send(item.raw, { from: deps.envelopeFrom, to: [deps.mailbox] });
      sent.push({ mailMessageId: item.mailMessageId, sentAt: deps.clock.now(), response: result.response });
      outcomes.push({ mailMessageId: item.mailMessageId, sent: true });
    } catch (error) {
      stop = error;
      break;
    }
  }
  const done = outcomes.length;
  if (done > 0) await runs.record(sent, jobs.slice(0, done).map((job) => job.id));
  // Without an error, jobs after `done` (a run cut at its attachment budget) go back untried.
  return stop === undefined ? { done, outcomes } : { done, outcomes, error: stop };
}

/** How many of the run's first mails keep their attachments within `budget` bytes (at least one). */
function withinAttachmentBudget(loaded: readonly LoadedRelay[], budget: number): number {
  let bytes = 0;
  for (const [i, item] of loaded.entries()) {
    if (item.kind !== 'new') continue;
    for (const attachment of item.facts.attachmentRows) bytes += attachment.size ?? 0;
    if (bytes > budget && i > 0) return i;
  }
  return loaded.length;
}

interface Ready {
  mailMessageId: string;
  /** The bytes to send; undefined when the mail was sent already. */
  raw?: Buffer;
  /** Set for a mail composed now, to be recorded before its first send. */
  fresh?: PreparedRelay;
}

async function readyToSend(deps: RelayDeps, item: Exclude<LoadedRelay, { kind: 'missing' }>): Promise<Ready> {
  if (item.kind === 'existing') {
    const { relay } = item;
    return relay.state === 'prepared' ? { mailMessageId: relay.mailMessageId, raw: await deps.blobs.get(relay.rawSha256) } : { mailMessageId: relay.mailMessageId };
  }
  const { attachmentRows, ...facts } = item.facts;
  const attachments: RelayMailInput['attachments'] = [];
  for (const record of attachmentRows) {
    if (record.sha256) attachments.push({ record, content: await deps.blobs.get(record.sha256) });
  }
  const input: RelayMailInput = {
    tenant: deps.tenant,
    mailDomain: deps.mailDomain,
    mailbox: deps.mailbox,
    replyAddress: `wa+${makeReplyToken(deps.replySecret, facts.conversation.chatToken)}@${deps.mailDomain}`,
    ...facts,
    attachments,
    archiveHash: facts.event?.chainHash ?? '',
    timeZone: deps.timeZone,
  };
  const { messageId, raw, rawSha256, inline } = deps.relayComposer ? await deps.relayComposer.composeRelay(input) : await composeHere(deps, input);
  return {
    mailMessageId: messageId,
    raw,
    fresh: { conversationId: facts.conversation.id, eventId: facts.event?.id ?? null, mailMessageId: messageId, rawSha256, rawSize: raw.length, preparedAt: deps.clock.now(), ...(inline ? { inline } : {}) },
  };
}

async function composeHere(deps: RelayDeps, input: RelayMailInput): ReturnType<RelayComposer['composeRelay']> {
  const mail = buildRelayMail(input);
  const raw = await deps.composer.compose(mail);
  return { messageId: mail.messageId, raw, rawSha256: await deps.blobs.put(raw) };
}

/** The run store over the Store and Outbox ports: a few statements per mail, for any store. */
export function storeRuns(store: Store, outbox: Outbox): RelayRunStore {
  return {
    load: (conversationId, eventIds) => store.read(async (tx) => {
      const out: LoadedRelay[] = [];
      for (const eventId of eventIds) {
        const relay = await store.getRelay(tx, conversationId, eventId);
        if (relay) {
          out.push({ kind: 'existing', relay });
          continue;
        }
        const conversation = await store.getConversation(tx, conversationId);
        if (!conversation) {
          out.push({ kind: 'missing', reason: `conversation ${conversationId} is not in the store` });
          continue;
        }
        const event = eventId === null ? null : await store.getEvent(tx, eventId);
        if (event === undefined) out.push({ kind: 'missing', reason: `event ${eventId} is not in the store` });
        else if (event === null) out.push({ kind: 'new', facts: { conversation, event, previous: [], attachmentRows: [] } });
        else {
          const relatedId = relatedWaMessageId(event.event);
          const related = relatedId ? await store.findMessageByWaId(tx, conversationId, relatedId) : undefined;
          const previous = await store.listEventKeysBefore(tx, conversationId, event.seq, REFERENCES_DEPTH);
          const attachmentRows = await store.listAttachments(tx, event.id);
          out.push({ kind: 'new', facts: { conversation, event, previous, attachmentRows, ...(related ? { related } : {}) } });
        }
      }
      return out;
    }),
    prepare: (relays) => store.transaction(async (tx) => {
      for (const relay of relays) await store.prepareRelay(tx, relay);
    }),
    record: (sent, jobIds) => store.transaction(async (tx) => {
      for (const s of sent) await store.markRelaySent(tx, s.mailMessageId, s.sentAt, s.response);
      for (const id of jobIds) await outbox.complete(tx, id);
    }),
  };
}

/** The WhatsApp id of the message an event quotes, edits, deletes or reacts to. */
export function relatedWaMessageId(event: InboundEvent): string | undefined {
  switch (event.kind) {
    case 'message':
      return event.quoted?.waMessageId;
    case 'edit':
    case 'deletion':
    case 'reaction':
      return event.targetWaMessageId;
  }
}
