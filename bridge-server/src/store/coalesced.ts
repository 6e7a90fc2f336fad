import { TurnBatches, type Waiting } from './turn-batches.js';

/**
 * Requests of one shape that arrive together (in one pass of the event loop, or while the previous
 * call is under way) go to the store as one call: `many` gets every item queued, in the order they
 * came, and answers each (its results in the same order), or fails as a whole. A write must then
 * have written all or none (one statement, or one transaction). Each caller learns its outcome only
 * after that call.
 *
 * If a call for several items fails, each item is then sent alone, so one bad item fails by itself
 * and the rest still succeed. Unlike GroupCommit, which runs units of any shape in one
 * transaction, this merges the items themselves, so a group costs the statements of one item: on
 * PostgreSQL, where each statement is a round trip and each commit a WAL flush, that is the point.
 */
export class Coalesced<T, R = void> {
  private readonly batches: TurnBatches<T, R>;

  constructor(
    private readonly many: (items: T[]) => Promise<R[]>,
    maxItems = 64,
  ) {
    this.batches = new TurnBatches((batch) => this.answer(batch), maxItems);
  }

  run(item: T): Promise<R> {
    return this.batches.add(item);
  }

  private async answer(batch: Array<Waiting<T, R>>): Promise<void> {
    try {
      const results = await this.answered(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      for (const w of batch) {
        try {
          w.resolve((await this.answered([w.item]))[0]!);
        } catch (alone) {
          w.reject(alone);
        }
      }
    }
  }

  private async answered(items: T[]): Promise<R[]> {
    const results = await this.many(items);
    if (results.length !== items.length) throw new Error(`a coalesced call answered ${results.length} of ${items.length} requests`);
    return results;
  }
}

/** Coalesced writes: `writeMany` writes every item, all or none. */
export class CoalescedWrites<T> {
  private readonly calls: Coalesced<T>;

  constructor(writeMany: (items: T[]) => Promise<void>, maxItems = 64) {
    this.calls = new Coalesced<T>(async (items) => {
      await writeMany(items);
      return items.map((): void => undefined);
    }, maxItems);
  }

  write(item: T): Promise<void> {
    return this.calls.run(item);
  }
}
