import type { InboundEvent, NormalizedBatch } from '../../core/events.js';
import type { CatchUpMarks } from './catch-up-marks.js';
import type { WebChat, WebMessage } from './client-port.js';
import type { ContextResolver } from './context.js';
import { describeError, type WebLogger } from './log-port.js';
import { normalizeAck, normalizeEdit, normalizeMessage, normalizeReaction } from './normalize.js';

/**
 * The catch-up after every `ready` (whatsapp-web.js issue #589): what arrived while the bridge
 * was offline never emits message_create, so each chat's recent messages are fetched back to its
 * high-water mark and handed to ingest like live events. Ingest skips what it already stored (the
 * ids repeat), so fetching a little too much is harmless and fetching too little is not: the
 * window reaches `overlapMs` before the mark, for messages that arrive late with an older time.
 */
export interface CatchUpOptions {
  /** First fetchMessages limit; doubled while the window is not covered. Default 50. */
  pageSize: number;
  /** Largest fetchMessages limit per chat and catch-up. Default 1000. */
  maxMessages: number;
  /** How far before the mark the window starts, in ms. Default 2 hours. */
  overlapMs: number;
  /** Chats fetched at the same time. Default 2. */
  concurrency: number;
}

export const defaultCatchUpOptions: CatchUpOptions = { pageSize: 50, maxMessages: 1000, overlapMs: 2 * 60 * 60 * 1000, concurrency: 2 };

export interface ChatCatchUpDeps {
  businessId: string;
  marks: CatchUpMarks;
  onBatch: (batch: NormalizedBatch) => Promise<void>;
  resolver: ContextResolver;
  logger: WebLogger;
  options: CatchUpOptions;
  now: () => number;
  /** Chats whose last delivery failed: caught up even without new activity, cleared on success. */
  behind: Set<string>;
}

/**
 * Catches one chat up: from its mark less the overlap (or from when the number was linked, for a
 * chat never seen), hands the batch to ingest, and only then moves the mark. A chat with no
 * activity since then is not fetched at all. Rejects when ingest refused the batch; the mark
 * then stays where it was, so the next catch-up hands the same events over again.
 */
export async function catchUpChat(deps: ChatCatchUpDeps, chat: WebChat, linkedAt: number): Promise<void> {
  const chatId = chat.id._serialized;
  const { marks, logger, businessId } = deps;
  const mark = await marks.get(businessId, chatId);
  const floor = mark === undefined ? linkedAt : mark - deps.options.overlapMs;
  const lastActivity = chat.timestamp === undefined ? undefined : chat.timestamp * 1000;
  if (lastActivity !== undefined && lastActivity < floor && !deps.behind.has(chatId)) return;
  const messages = await fetchBackTo(chat, floor, deps.options);
  const { batch, mark: next } = await buildCatchUpBatch(messages, { floor, followed: mark !== undefined, now: deps.now() }, deps.resolver, logger);
  if (batch.events.length > 0 || batch.statuses.length > 0) {
    try {
      await deps.onBatch(batch);
    } catch (error) {
      deps.behind.add(chatId);
      logger.error({ chatId, events: batch.events.length, ...describeError(error) }, 'ingest refused the catch-up of a chat; its mark stays');
      throw error;
    }
    logger.info({ chatId, events: batch.events.length, statuses: batch.statuses.length }, 'chat caught up');
  }
  if (next !== undefined) await marks.advance(businessId, chatId, next);
  deps.behind.delete(chatId);
}

/** The chat's newest messages back to `floor` (ms), oldest first. */
export async function fetchBackTo(chat: WebChat, floor: number, options: Pick<CatchUpOptions, 'pageSize' | 'maxMessages'>): Promise<WebMessage[]> {
  let limit = Math.max(1, Math.min(options.pageSize, options.maxMessages));
  for (;;) {
    const messages = [...(await chat.fetchMessages({ limit }))].sort((a, b) => a.timestamp - b.timestamp);
    const oldest = messages[0];
    const covered = messages.length < limit || oldest === undefined || oldest.timestamp * 1000 < floor;
    if (covered || limit >= options.maxMessages) return messages;
    limit = Math.min(limit * 2, options.maxMessages);
  }
}

export interface CatchUpBatch {
  batch: NormalizedBatch;
  /** The new high-water mark once the batch is ingested; undefined when nothing was new. */
  mark: number | undefined;
}

/**
 * Normalizes a chat's fetched messages from `floor` on: each message, the latest edit of an
 * edited one (its version key is the edit time, the same key the live message_edit gives), the
 * current reactions, the deletion of a revoked one, and the delivery status of the firm's own.
 * `followed` says the chat has a mark, i.e. its older messages are in the archive, so a deletion
 * of one of them is worth recording. A message that cannot be normalized is logged and skipped
 * so that it cannot hold the whole chat back.
 */
export async function buildCatchUpBatch(
  messages: readonly WebMessage[],
  window: { floor: number; followed: boolean; now: number },
  resolver: ContextResolver,
  logger: WebLogger,
): Promise<CatchUpBatch> {
  const events: InboundEvent[] = [];
  const statuses: NormalizedBatch['statuses'] = [];
  let mark: number | undefined;
  const advance = (at: number) => {
    mark = Math.max(mark ?? 0, at);
  };
  for (const message of messages) {
    const at = message.timestamp * 1000;
    const editedAt = message.latestEditSenderTimestampMs;
    const inWindow = at >= window.floor;
    const revoked = message.type === 'revoked';
    const edited = editedAt !== undefined && editedAt >= window.floor;
    const reacted = message.hasReaction === true && typeof message.getReactions === 'function';
    if (!inWindow && !edited && !reacted && !(revoked && window.followed)) continue;
    try {
      const context = await resolver.forMessage(message);
      if (inWindow || (revoked && window.followed)) push(events, normalizeMessage(message, context));
      if (inWindow) advance(at);
      if (edited && !revoked) {
        push(events, normalizeEdit(message, { newBody: message.body }, context, window.now));
        advance(editedAt);
      }
      if (inWindow && message.ack !== undefined) {
        const status = normalizeAck(message, message.ack, context, window.now);
        if (status) statuses.push(status);
      }
      if (reacted) await addReactions(message, window.floor, resolver, events);
    } catch (error) {
      logger.warn({ waMessageId: message.id._serialized, type: message.type, ...describeError(error) }, 'catch-up skipped a message it could not read');
    }
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  return { batch: { events, statuses }, mark };
}

async function addReactions(message: WebMessage, floor: number, resolver: ContextResolver, events: InboundEvent[]): Promise<void> {
  const groups = (await message.getReactions?.()) ?? [];
  for (const group of groups) {
    for (const reaction of group.senders) {
      if (reaction.timestamp * 1000 >= floor) push(events, normalizeReaction(reaction, await resolver.forReaction(reaction)));
    }
  }
}

function push(events: InboundEvent[], event: InboundEvent | undefined): void {
  if (event) events.push(event);
}
