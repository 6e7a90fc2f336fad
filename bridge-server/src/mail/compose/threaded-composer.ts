import { Worker } from 'node:worker_threads';
import { BadInputError } from '../../core/errors.js';
import type { OutgoingMail } from '../../core/mail.js';
import type { MailComposer } from '../../core/ports.js';

export interface ComposeRequest {
  id: number;
  mail: OutgoingMail;
}

export type ComposeReply =
  | { ready: true }
  | { id: number; raw: Uint8Array }
  | { id: number; error: { badInput: boolean; code: string; message: string } };

interface Waiter {
  resolve: (raw: Buffer) => void;
  reject: (error: Error) => void;
}

/**
 * The deterministic composer on a worker thread, so building MIME (a large share of the relay's
 * CPU) runs on another core than webhooks and the store. Same bytes as DeterministicComposer and
 * the same BadInputErrors. Requests wait until the thread says it is ready; if the thread dies,
 * the mails it held fail (their jobs are retried) and the next request starts a new thread.
 */
export class ThreadedComposer implements MailComposer {
  private worker: Worker | undefined;
  private ready = false;
  private readonly queued: ComposeRequest[] = [];
  private readonly pending = new Map<number, Waiter>();
  private nextId = 0;
  private closed = false;

  /** Starts the thread now rather than on the first mail (it takes a moment to load). */
  warm(): this {
    this.thread();
    return this;
  }

  compose(mail: OutgoingMail): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('the MIME composer is closed'));
    const id = (this.nextId += 1);
    return new Promise((resolve, reject) => {
      const worker = this.thread();
      // Held while mails are in the thread, so a caller awaiting one is never left behind.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      if (this.ready) worker.postMessage({ id, mail } satisfies ComposeRequest);
      else this.queued.push({ id, mail });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./compose-thread.js', import.meta.url));
    this.worker = worker;
    this.ready = false;
    worker.on('message', (reply: ComposeReply) => {
      if ('ready' in reply) {
        this.ready = true;
        for (const request of this.queued.splice(0)) worker.postMessage(request);
        return;
      }
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('raw' in reply) waiter.resolve(Buffer.from(reply.raw.buffer, reply.raw.byteOffset, reply.raw.byteLength));
      else if (reply.error.badInput) waiter.reject(new BadInputError(reply.error.code, reply.error.message));
      else waiter.reject(new Error(reply.error.message));
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`the MIME composer thread exited (${code})`)));
    // An idle thread must never keep the process alive. Only after the listeners: adding the
    // first 'message' listener refs the worker's port again, and a process that had stopped
    // everything else would then wait for the idle thread forever.
    worker.unref();
    return worker;
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    this.queued.length = 0;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
