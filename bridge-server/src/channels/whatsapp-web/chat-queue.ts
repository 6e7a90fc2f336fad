/**
 * One chain of work per chat: live events and the catch-up of a chat run one after another, in
 * the order they were queued, so a chat's events reach ingest in WhatsApp's order
 * (whatsapp-web.js issue #1898: async handlers otherwise interleave and duplicate). Different chats run side by side.
 */
export class ChatQueues {
  private readonly tails = new Map<string, Promise<void>>();

  /** Queues `task` behind the chat's earlier tasks. A task's failure is the caller's to handle. */
  run<T>(chatId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(chatId) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(chatId, tail);
    void tail.then(() => {
      if (this.tails.get(chatId) === tail) this.tails.delete(chatId);
    });
    return result;
  }

  /** Resolves once every task queued so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}

/** At most `limit` holders at once; the rest wait in order. Keeps catch-up from flooding the page. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async use<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
