interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes of one shape that arrive together (in one pass of the event loop, or while the previous
 * write is under way) go to the store as one write: `writeMany` gets every item queued, in the
 * order they came, and must write them all or none (one statement, or one transaction). Each
 * caller learns its outcome only after that write.
 *
 * If the write of several items fails, each item is then written alone, so one bad item fails by
 * itself and the rest still land. Unlike GroupCommit, which runs units of any shape in one
 * transaction, this merges the items themselves, so a group costs the statements of one item: on
 * PostgreSQL, where each statement is a round trip and each commit a WAL flush, that is the point.
 */
export class CoalescedWrites<T> {
  private readonly queue: Array<Pending<T>> = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly writeMany: (items: T[]) => Promise<void>,
    private readonly maxItems = 64,
  ) {}

  write(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
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
          await this.writeMany(group.map((p) => p.item));
          for (const p of group) p.resolve();
        } catch (error) {
          if (group.length === 1) {
            group[0]!.reject(error);
            continue;
          }
          for (const p of group) {
            try {
              await this.writeMany([p.item]);
              p.resolve();
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
}
