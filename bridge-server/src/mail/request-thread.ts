import { parentPort, Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * A worker thread that answers requests, one answer per request, in any order: the mail adapters'
 * way of doing CPU work (composing MIME) or protocol work (an SMTP client) on another core than
 * webhooks and the store.
 *
 * The messages between the two sides:
 *   thread -> main  { ready: true }                                  once it listens
 *   main -> thread  [{ id, body }, …]                                requests
 *   thread -> main  [{ id, answer } | { id, failure }, …]            answers
 * A failure is a plain record (an error's message and whatever fields its caller classifies it by),
 * made into an Error again on the main side by `toError`: an Error's own class does not survive
 * the crossing.
 *
 * Each side gathers what it sends while it handles one event (a callback and the promise
 * continuations it sets off) and sends it as one message. A crossing has a cost of its own, apart
 * from the bytes it carries (the wake-up of the other thread, the message event, the transfer
 * bookkeeping): about 70 µs of CPU for a request and its answer, against about 20 µs each when
 * eight go together. A relay run's mails, and the next mails of the runs whose answers came back
 * in one message, cross together instead of one each.
 */
type Request<Body> = { id: number; body: Body };
type Answer<A, F> = { id: number; answer: A } | { id: number; failure: F };
type Reply<A, F> = { ready: true } | Array<Answer<A, F>>;

/**
 * Messages gathered while one event is handled and sent together once it and the promise
 * continuations it set off have run (process.nextTick), their transfer lists joined. Waiting for
 * the end of the event loop's turn instead (setImmediate) gathered more but held requests behind a
 * whole turn of webhooks, and left the relay short of work. While `open` says no (a thread not
 * ready yet) they wait for the next `schedule`. A gathered message that cannot be sent (a value
 * that cannot be cloned) fails alone: the rest are then sent one by one.
 */
class PostQueue<Item> {
  private items: Array<{ item: Item; transfer: ArrayBuffer[] }> = [];
  private scheduled = false;

  constructor(
    private readonly post: (items: Item[], transfer: ArrayBuffer[]) => void,
    private readonly failed: (item: Item, error: unknown) => void,
    private readonly open: () => boolean = () => true,
  ) {}

  add(item: Item, transfer: ArrayBuffer[]): void {
    this.items.push({ item, transfer });
    this.schedule();
  }

  schedule(): void {
    if (this.scheduled || this.items.length === 0 || !this.open()) return;
    this.scheduled = true;
    process.nextTick(() => this.flush());
  }

  clear(): void {
    this.items = [];
  }

  private flush(): void {
    this.scheduled = false;
    if (!this.open()) return;
    const items = this.items;
    this.items = [];
    if (items.length === 0) return;
    try {
      this.post(items.map((entry) => entry.item), movable(items.flatMap((entry) => entry.transfer)));
      return;
    } catch (error) {
      if (items.length === 1) return this.failed(items[0]!.item, error);
    }
    for (const { item, transfer } of items) {
      try {
        this.post([item], movable(transfer));
      } catch (error) {
        this.failed(item, error);
      }
    }
  }
}

/**
 * The transfer list to post: each buffer once (two messages sharing one move it once, and the clone
 * keeps both references), and none that is empty. Node drops a message without a word when its
 * transfer list holds a buffer already moved (detached, and so empty); left out of the list, such a
 * buffer fails the clone with a DataCloneError instead, and an empty one that was never moved is
 * simply copied.
 */
const movable = (transfer: ArrayBuffer[]): ArrayBuffer[] => [...new Set(transfer)].filter((buffer) => buffer.byteLength > 0);

interface Waiter<Answer> {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

export interface RequestThreadOptions<Failure> {
  /** The thread's script. */
  entry: URL | string;
  /** Handed to the thread as its workerData. */
  data: unknown;
  /** What the thread is, for the errors its loss and closing give ("the MIME composer"). */
  name: string;
  toError: (failure: Failure) => Error;
  /** The error the requests in a thread that died fail with (by default what ended it). */
  lostError?: (cause: Error) => Error;
  /** Memory caps of the thread (Node ends a thread that passes them, failing its requests). */
  resourceLimits?: ResourceLimits;
}

/**
 * The main side. The thread starts with the first request, and requests wait until it says it is
 * ready. If it dies, the requests it held fail and the next request starts a new one. An idle
 * thread never keeps the process alive; one with requests in it does, so a caller awaiting an
 * answer is never left behind.
 */
export class RequestThread<Body, Answer, Failure> {
  private worker: Worker | undefined;
  private ready = false;
  private readonly outgoing = new PostQueue<Request<Body>>(
    (requests, transfer) => this.worker?.postMessage(requests, transfer),
    (request, error) => this.settle(request.id, (waiter) => waiter.reject(error instanceof Error ? error : new Error(String(error)))),
    () => this.ready,
  );
  private readonly pending = new Map<number, Waiter<Answer>>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: RequestThreadOptions<Failure>) {}

  /**
   * `transfer`: buffers of `body` to move to the thread rather than copy (unusable here after).
   * The request leaves once the current event has been handled, with any others made meanwhile.
   */
  request(body: Body, transfer: ArrayBuffer[] = []): Promise<Answer> {
    if (this.closed) return Promise.reject(new Error(`${this.options.name} is closed`));
    const request = { id: (this.nextId += 1), body };
    return new Promise((resolve, reject) => {
      const worker = this.thread();
      if (this.pending.size === 0) worker.ref();
      this.pending.set(request.id, { resolve, reject });
      this.outgoing.add(request, transfer);
    });
  }

  /** Refuses new requests and ends the thread; requests still in it fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.options.entry, { workerData: this.options.data, ...(this.options.resourceLimits ? { resourceLimits: this.options.resourceLimits } : {}) });
    this.worker = worker;
    this.ready = false;
    worker.on('message', (reply: Reply<Answer, Failure>) => {
      if (!Array.isArray(reply)) {
        this.ready = true;
        this.outgoing.schedule();
        return;
      }
      for (const answer of reply) {
        this.settle(answer.id, (waiter) => ('answer' in answer ? waiter.resolve(answer.answer) : waiter.reject(this.options.toError(answer.failure))));
      }
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`${this.options.name} thread exited (${code})`)));
    // Only after the listeners: adding the first 'message' listener refs the worker's port again,
    // and a process that had stopped everything else would then wait for the idle thread forever.
    worker.unref();
    return worker;
  }

  /** Ends the wait for request `id`, if it is still awaited, with `end`. */
  private settle(id: number, end: (waiter: Waiter<Answer>) => void): void {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    end(waiter);
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    this.outgoing.clear();
    const failure = this.options.lostError ? this.options.lostError(error) : error;
    for (const waiter of this.pending.values()) waiter.reject(failure);
    this.pending.clear();
  }
}

/**
 * The thread's side: answers each request with `handle`, whose result names the buffers of the
 * answer to move to the main thread rather than copy; a thrown error is sent as `describe` makes it.
 * Says it is ready once it listens.
 */
export function serveRequests<Body, A, F>(
  handle: (body: Body) => Promise<{ answer: A; transfer?: ArrayBuffer[] }>,
  describe: (error: unknown) => F,
): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests runs on a worker thread only');
  const replies = new PostQueue<Answer<A, F>>(
    (answers, transfer) => port.postMessage(answers satisfies Reply<A, F>, transfer),
    (answer, error) => port.postMessage([{ id: answer.id, failure: describe(error) }] satisfies Reply<A, F>),
  );
  port.on('message', (requests: Array<Request<Body>>) => {
    for (const request of requests) {
      handle(request.body).then(
        ({ answer, transfer }) => replies.add({ id: request.id, answer }, transfer ?? []),
        (error: unknown) => replies.add({ id: request.id, failure: describe(error) }, []),
      );
    }
  });
  port.postMessage({ ready: true } satisfies Reply<A, F>);
}
