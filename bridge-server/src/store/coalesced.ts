interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

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
  private readonly queue: Array<Pending<T, R>> = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly many: (items: T[]) => Promise<R[]>,
    private readonly maxItems = 64,
  ) {}

  run(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.flushing || this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxItems);
        try {
          const results = await this.answered(group.map((p) => p.item));
          group.forEach((p, i) => p.resolve(results[i]!));
        } catch (error) {
          if (group.length === 1) {
            group[0]!.reject(error);
            continue;
          }
          for (const p of group) {
            try {
              p.resolve((await this.answered([p.item]))[0]!);
            } catch (alone) {
              p.reject(alone);
            }
          }
        }
      }
    } finally {
      this.flushing = false;
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
