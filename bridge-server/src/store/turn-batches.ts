/** A request waiting in a batch, and how to answer it. */
export interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers requests into batches: those that arrive in one pass of the event loop, or while the
 * previous batch is being handled, are handed to `handle` together, at most `max` at a time and in
 * the order they came. `handle` answers each request; if it throws, every request of its batch
 * still unanswered fails with that error. No timer is involved: a request waits at most for the
 * current pass over I/O events to end. SQLite runs statements synchronously, so nothing is "under
 * way" while requests are read, and that one pass is what lets the requests read in it share a batch.
 */
export class TurnBatches<T, R> {
  private readonly queue: Array<Waiting<T, R>> = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly handle: (batch: Array<Waiting<T, R>>) => Promise<void>,
    private readonly max: number,
  ) {}

  add(item: T): Promise<R> {
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
        const batch = this.queue.splice(0, this.max);
        try {
          await this.handle(batch);
        } catch (error) {
          // Settling a promise twice does nothing, so requests already answered keep their answer.
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
