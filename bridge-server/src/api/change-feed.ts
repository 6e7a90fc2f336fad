import type { DeliveryStatus } from '../core/records.js';
import type { EventRecord } from '../core/records.js';
import type { PendingReplyRow } from '../store/conversation-views.js';
import { listEventsAfter, maxEventId } from '../store/events.js';
import { conversationsEverLinked } from '../store/matters.js';
import { holdPlaces, holdsState, holdsStateOf } from '../store/retention.js';
import type { Executor } from '../store/executor.js';

export type FeedChange =
  | { type: 'message'; conversationId: number; event: EventRecord }
  | { type: 'delivery'; conversationId: number; waMessageId: string; status: DeliveryStatus; at: number }
  | { type: 'reply'; conversationId: number; reply: PendingReplyRow }
  | { type: 'conversation'; conversationId: number }
  | { type: 'retention'; conversationIds: number[]; matterIds: number[] }
  | { type: 'holds'; at: number };

export type FeedListener = (changes: FeedChange[]) => Promise<void>;

/**
 * What changed in the store, for the live stream. It reads the store itself (new events, new
 * delivery statuses, replies queued or failed) rather than being told by each flow, so every road
 * into the archive shows up alike: webhooks, whatsapp-web.js, the reply flow, other processes on
 * the same database. It polls only while someone listens; link and assignee changes made through
 * the API are pushed at once with `notifyConversation`.
 */
export class ChangeFeed {
  private readonly listeners = new Set<FeedListener>();
  private timer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private lastEventId = 0;
  private lastStatusId = 0;
  private commandsSince = 0;
  /** Lowest reply id that may still change state (queued); older replies are settled. */
  private commandsFrom = 0;
  private readonly seenCommands = new Map<string, number>();
  /** The legal holds as last seen (newest id, number released): a change in it is a placing or a release. */
  private holdsSeen = '';
  /** Each hold as last seen, released or not: compared with the store's to find the ones that changed. */
  private holdsReleased = new Map<number, boolean>();
  /** Hold changes are looked for one look at a time, so a push and a poll never both report one. */
  private holdsLook: Promise<unknown> = Promise.resolve();
  private ticking = false;

  constructor(
    private readonly db: Executor,
    private readonly options: { pollMs: number; now: () => number; onError: (error: unknown) => void },
  ) {}

  /** Adds a listener; resolves once changes from now on will reach it. Returns the unsubscribe. */
  async subscribe(listener: FeedListener): Promise<() => void> {
    this.starting ??= this.start();
    await this.starting;
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  notifyConversation(conversationId: number): void {
    void this.deliver([{ type: 'conversation', conversationId }]);
  }

  /**
   * Conversations whose retention the API just changed (a matter closed): one change for all of
   * them, read only by the streams of one of them, so a large matter does not rebuild every
   * conversation for every list that is open; and the matters, for those who see them.
   */
  notifyRetention(change: { conversationIds: number[]; matterIds: number[] }): void {
    if (change.conversationIds.length > 0 || change.matterIds.length > 0) void this.deliver([{ type: 'retention', ...change }]);
  }

  /**
   * A hold the API just placed or released: pushed at once, and not again by the next poll. The
   * feed works out what it keeps, as it does for a hold placed by another process.
   */
  async notifyHolds(): Promise<void> {
    if (this.listeners.size === 0) return;
    const changes = await this.holdChanges();
    if (changes.length > 0) await this.deliver(changes);
  }

  /** A reply the API just accepted: pushed at once, since the worker may send it before the next poll. */
  async notifyReply(commandId: number): Promise<void> {
    const row = await this.db
      .selectFrom('outbound_commands')
      .select(['id', 'conversation_id', 'state', 'command_json', 'created_at', 'updated_at', 'error_code', 'error_message'])
      .where('id', '=', commandId)
      .executeTakeFirst();
    if (!row) return;
    const key = `${row.id}:queued`;
    if (this.seenCommands.has(key)) return;
    this.seenCommands.set(key, row.updated_at);
    await this.deliver([{ type: 'reply', conversationId: row.conversation_id, reply: toPendingRow({ ...row, state: 'queued' }) }]);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.starting = undefined;
  }

  private async start(): Promise<void> {
    this.lastEventId = await maxEventId(this.db);
    const status = await this.db.selectFrom('statuses').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
    this.lastStatusId = Number(status?.id ?? 0);
    this.commandsSince = this.options.now();
    this.commandsFrom = await this.firstUnsettledCommand(0);
    this.seenCommands.clear();
    const holds = await holdPlaces(this.db);
    this.holdsSeen = holdsStateOf(holds);
    this.holdsReleased = new Map(holds.map((hold) => [hold.id, hold.released]));
    this.schedule();
  }

  /** One timer at a time: a tick still running when the feed restarts must not start a second chain. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), this.options.pollMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const changes = [...(await this.newEvents()), ...(await this.newStatuses()), ...(await this.changedReplies()), ...(await this.holdChanges())];
      if (changes.length > 0) await this.deliver(changes);
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.ticking = false;
      if (this.timer) this.schedule();
    }
  }

  private async newEvents(): Promise<FeedChange[]> {
    const events = await listEventsAfter(this.db, this.lastEventId, 500);
    if (events.length > 0) this.lastEventId = events.at(-1)!.id;
    return events.map((event) => ({ type: 'message' as const, conversationId: event.conversationId, event }));
  }

  private async newStatuses(): Promise<FeedChange[]> {
    const rows = await this.db
      .selectFrom('statuses')
      .innerJoin('outbound_parts', 'outbound_parts.wa_message_id', 'statuses.wa_message_id')
      .innerJoin('outbound_commands', 'outbound_commands.id', 'outbound_parts.command_id')
      .select(['statuses.id as id', 'outbound_parts.wa_message_id as waMessageId', 'outbound_parts.status as status', 'outbound_parts.status_at as at', 'outbound_commands.conversation_id as conversationId'])
      .where('statuses.id', '>', this.lastStatusId)
      .orderBy('statuses.id')
      .limit(500)
      .execute();
    const last = await this.db.selectFrom('statuses').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
    this.lastStatusId = Math.max(this.lastStatusId, Number(last?.id ?? 0));
    // The part holds the best status so far, so a late "delivered" after "read" reports "read".
    return rows.map((row) => ({ type: 'delivery' as const, conversationId: row.conversationId, waMessageId: row.waMessageId, status: row.status as DeliveryStatus, at: row.at }));
  }

  private async changedReplies(): Promise<FeedChange[]> {
    // Taken before the read, so a reply settling in between is still within this read's range.
    const nextFrom = await this.firstUnsettledCommand(this.commandsFrom);
    const rows = await this.db
      .selectFrom('outbound_commands')
      .select(['id', 'conversation_id', 'state', 'command_json', 'created_at', 'updated_at', 'error_code', 'error_message'])
      .where('id', '>=', this.commandsFrom)
      .where('updated_at', '>=', this.commandsSince)
      .where('state', 'in', ['queued', 'failed'])
      .orderBy('updated_at')
      .limit(500)
      .execute();
    this.commandsFrom = nextFrom;
    const changes: FeedChange[] = [];
    for (const row of rows) {
      const key = `${row.id}:${row.state}`;
      if (this.seenCommands.has(key)) continue;
      this.seenCommands.set(key, row.updated_at);
      changes.push({
        type: 'reply',
        conversationId: row.conversation_id,
        reply: toPendingRow(row),
      });
    }
    const newest = rows.at(-1)?.updated_at;
    if (newest !== undefined && newest > this.commandsSince) {
      this.commandsSince = newest;
      for (const [key, at] of this.seenCommands) if (at < newest) this.seenCommands.delete(key);
    }
    return changes;
  }

  /** Holds placed or released since the last look, by the API or by another process (the CLI, another bridge). */
  private holdChanges(): Promise<FeedChange[]> {
    const look = this.holdsLook.then(() => this.lookAtHolds());
    this.holdsLook = look.catch(() => undefined);
    return look;
  }

  /**
   * The conversations and matters the changed holds keep (a matter's hold keeps every conversation
   * ever linked to it, as retention reads it), and a `holds` change for the officers' lists.
   */
  private async lookAtHolds(): Promise<FeedChange[]> {
    const state = await holdsState(this.db);
    if (state === this.holdsSeen) return [];
    const holds = await holdPlaces(this.db);
    const changed = holds.filter((hold) => this.holdsReleased.get(hold.id) !== hold.released);
    // From the holds as read, so a hold placed between the two reads counts as seen once.
    this.holdsSeen = holdsStateOf(holds);
    this.holdsReleased = new Map(holds.map((hold) => [hold.id, hold.released]));
    const matterIds = [...new Set(changed.flatMap((hold) => (hold.matterId === null ? [] : [hold.matterId])))];
    const conversationIds = new Set(changed.flatMap((hold) => (hold.conversationId === null ? [] : [hold.conversationId])));
    for (const matterId of matterIds) for (const id of await conversationsEverLinked(this.db, matterId)) conversationIds.add(id);
    if (changed.length === 0) return [];
    const changes: FeedChange[] = [{ type: 'holds', at: this.options.now() }];
    if (conversationIds.size > 0 || matterIds.length > 0) changes.unshift({ type: 'retention', conversationIds: [...conversationIds].sort((a, b) => a - b), matterIds });
    return changes;
  }

  /**
   * Replies change state only while queued (a later delivery failure arrives as a status, which
   * newStatuses reports), so each poll reads from the oldest queued reply on: a range of the
   * primary key, not the whole table.
   */
  private async firstUnsettledCommand(from: number): Promise<number> {
    const row = await this.db
      .selectFrom('outbound_commands')
      .select([(eb) => eb.fn.min<number | null>(eb.case().when('state', '=', 'queued').then(eb.ref('id')).end()).as('queued'), (eb) => eb.fn.max<number | null>('id').as('newest')])
      .where('id', '>=', from)
      .executeTakeFirst();
    if (row?.queued !== null && row?.queued !== undefined) return Number(row.queued);
    if (row?.newest !== null && row?.newest !== undefined) return Number(row.newest) + 1;
    return from;
  }

  private async deliver(changes: FeedChange[]): Promise<void> {
    await Promise.all([...this.listeners].map((listener) => listener(changes).catch((error: unknown) => this.options.onError(error))));
  }
}

function toPendingRow(row: { id: number; state: string; command_json: string; created_at: number; error_code: string | null; error_message: string | null }): PendingReplyRow {
  return { id: row.id, state: row.state, commandJson: row.command_json, createdAt: row.created_at, errorCode: row.error_code, errorMessage: row.error_message };
}
