import { sql } from 'kysely';
import type { CatchUpMarks } from '../channels/whatsapp-web/catch-up-marks.js';
import type { Executor } from './executor.js';

/** Who holds a lease after a claim, and until when. */
export interface LeaseState {
  /** True when the claimer holds the lease now. */
  held: boolean;
  owner: string;
  /** Changes whenever the owner changes: each ownership has its own number. */
  generation: number;
  expiresAt: number;
}

/**
 * Leases in the store: a named resource owned by one bridge instance until its lease expires.
 * A claim takes a free or expired lease, renews one the claimer holds, and leaves another
 * owner's live lease alone; it is one statement, so two instances claiming at once cannot both
 * win on either engine.
 */
export class StoreLeases {
  constructor(private readonly db: Executor) {}

  async claim(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    const expiresAt = now + ttlMs;
    await sql`
      INSERT INTO leases (name, owner, generation, acquired_at, expires_at)
      VALUES (${name}, ${owner}, 1, ${now}, ${expiresAt})
      ON CONFLICT (name) DO UPDATE SET
        generation = CASE WHEN leases.owner = excluded.owner THEN leases.generation ELSE leases.generation + 1 END,
        acquired_at = CASE WHEN leases.owner = excluded.owner THEN leases.acquired_at ELSE excluded.acquired_at END,
        owner = excluded.owner,
        expires_at = excluded.expires_at
      WHERE leases.owner = excluded.owner OR leases.expires_at <= ${now}`.execute(this.db);
    const row = await this.db.selectFrom('leases').select(['owner', 'generation', 'expires_at']).where('name', '=', name).executeTakeFirstOrThrow();
    return { held: row.owner === owner, owner: row.owner, generation: Number(row.generation), expiresAt: Number(row.expires_at) };
  }

  /**
   * Gives the lease up at once (a clean shutdown), so another instance need not wait for it to
   * run out. The row stays, so the next owner's generation still counts on.
   */
  async release(name: string, owner: string): Promise<void> {
    await this.db.updateTable('leases').set({ expires_at: 0 }).where('name', '=', name).where('owner', '=', owner).execute();
  }
}

/**
 * The WhatsApp Web catch-up marks in the store, shared by every instance on it: whichever
 * instance owns the session next catches up from where the last one stopped.
 */
export class StoreMarks implements CatchUpMarks {
  constructor(private readonly db: Executor) {}

  async get(businessId: string, chatId: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('catch_up_marks').select('mark').where('business_id', '=', businessId).where('chat_id', '=', chatId).executeTakeFirst();
    return row ? Number(row.mark) : undefined;
  }

  async advance(businessId: string, chatId: string, mark: number): Promise<void> {
    const rounded = Math.round(mark);
    await sql`
      INSERT INTO catch_up_marks (business_id, chat_id, mark) VALUES (${businessId}, ${chatId}, ${rounded})
      ON CONFLICT (business_id, chat_id) DO UPDATE SET mark = excluded.mark
      WHERE catch_up_marks.mark < excluded.mark`.execute(this.db);
  }

  async linkedAt(businessId: string, now: number): Promise<number> {
    await sql`INSERT INTO catch_up_numbers (business_id, linked_at) VALUES (${businessId}, ${Math.round(now)}) ON CONFLICT (business_id) DO NOTHING`.execute(this.db);
    const row = await this.db.selectFrom('catch_up_numbers').select('linked_at').where('business_id', '=', businessId).executeTakeFirstOrThrow();
    return Number(row.linked_at);
  }

  /**
   * Takes over marks an earlier version kept in a JSON file (catch-up-marks.ts): each moves the
   * store's mark forward only, so importing twice, or after the store moved on, changes nothing.
   */
  async importFrom(numbers: Record<string, { linkedAt: number; chats: Record<string, number> }>): Promise<number> {
    let count = 0;
    for (const [businessId, number] of Object.entries(numbers)) {
      await this.linkedAt(businessId, number.linkedAt);
      for (const [chatId, mark] of Object.entries(number.chats)) {
        await this.advance(businessId, chatId, mark);
        count += 1;
      }
    }
    return count;
  }
}
