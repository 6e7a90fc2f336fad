import { parentPort, Worker } from 'node:worker_threads';

/**
 * A worker thread that answers requests, one answer per request, in any order: the mail adapters'
 * way of doing CPU work (composing MIME) or protocol work (an SMTP client) on another core than
 * webhooks and the store.
 *
 * The messages between the two sides:
 *   thread -> main  { ready: true }                once it listens
 *   main -> thread  { id, body }                   a request
 *   thread -> main  { id, answer } | { id, failure }
 * A failure is a plain record (an error's message and whatever fields its caller classifies it by),
 * made into an Error again on the main side by `toError`: an Error's own class does not survive
 * the crossing.
 */
type Request<Body> = { id: number; body: Body };
type Reply<Answer, Failure> = { ready: true } | { id: number; answer: Answer } | { id: number; failure: Failure };

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
  private readonly queued: Array<{ request: Request<Body>; transfer: ArrayBuffer[] }> = [];
  private readonly pending = new Map<number, Waiter<Answer>>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: RequestThreadOptions<Failure>) {}

  /** `transfer`: buffers of `body` to move to the thread rather than copy (unusable here after). */
  request(body: Body, transfer: ArrayBuffer[] = []): Promise<Answer> {
    if (this.closed) return Promise.reject(new Error(`${this.options.name} is closed`));
    const request = { id: (this.nextId += 1), body };
    return new Promise((resolve, reject) => {
      const worker = this.thread();
      if (this.pending.size === 0) worker.ref();
      this.pending.set(request.id, { resolve, reject });
      if (this.ready) worker.postMessage(request, transfer);
      else this.queued.push({ request, transfer });
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
    const worker = new Worker(this.options.entry, { workerData: this.options.data });
    this.worker = worker;
    this.ready = false;
    worker.on('message', (reply: Reply<Answer, Failure>) => {
      if ('ready' in reply) {
        this.ready = true;
        for (const { request, transfer } of this.queued.splice(0)) worker.postMessage(request, transfer);
        return;
      }
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('answer' in reply) waiter.resolve(reply.answer);
      else waiter.reject(this.options.toError(reply.failure));
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`${this.options.name} thread exited (${code})`)));
    // Only after the listeners: adding the first 'message' listener refs the worker's port again,
    // and a process that had stopped everything else would then wait for the idle thread forever.
    worker.unref();
    return worker;
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    this.queued.length = 0;
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
export function serveRequests<Body, Answer, Failure>(
  handle: (body: Body) => Promise<{ answer: Answer; transfer?: ArrayBuffer[] }>,
  describe: (error: unknown) => Failure,
): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests runs on a worker thread only');
  port.on('message', (request: Request<Body>) => {
    handle(request.body).then(
      ({ answer, transfer }) => port.postMessage({ id: request.id, answer } satisfies Reply<Answer, Failure>, transfer ?? []),
      (error: unknown) => port.postMessage({ id: request.id, failure: describe(error) } satisfies Reply<Answer, Failure>),
    );
  });
  port.postMessage({ ready: true } satisfies Reply<Answer, Failure>);
}
