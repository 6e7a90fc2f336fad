import { Worker } from 'node:worker_threads';
import { BadInputError, UpstreamError } from '../../core/errors.js';
import type { OutgoingMail } from '../../core/mail.js';
import type { MailComposer } from '../../core/ports.js';
import type { RelayMailInput } from '../../core/relay-mail.js';
import type { BlobKeys } from '../../store/blob-cipher.js';
import type { MediaStoreLocation } from '../../store/blob-store.js';

export interface ComposerThreadData {
  /** The blob store (a directory or a bucket): relayed mails are stored there by the thread. */
  blobStore?: MediaStoreLocation;
  /** Shorthand for a directory store at this root. */
  blobRoot?: string;
  /** Data keys when blobs are sealed at rest, and whether new ones are sealed. */
  blobKeys?: BlobKeys;
  sealBlobs?: boolean;
}

export type ComposeRequest = { id: number; kind: 'mail'; mail: OutgoingMail } | { id: number; kind: 'relay'; input: RelayMailInput };

export type ComposeReply =
  | { ready: true }
  | { id: number; raw: Uint8Array; messageId?: string; rawSha256?: string; inline?: Uint8Array }
  | { id: number; error: { badInput: boolean; code: string; message: string; errno?: string } };

/**
 * A relayed mail as the thread built it: its Message-ID, its bytes, and their blob: already in
 * the blob store, or, for a mail of up to INLINE_BLOB_BYTES, `inline`, the bytes as stored (sealed
 * when sealed) for the blob's row.
 */
export interface ComposedRelay {
  messageId: string;
  raw: Buffer;
  rawSha256: string;
  inline?: Buffer;
}

/** What the thread answers a request with, its bytes as Buffers again. */
type Composed = { raw: Buffer } & Partial<Omit<ComposedRelay, 'raw'>>;

interface Waiter {
  resolve: (reply: Composed) => void;
  reject: (error: Error) => void;
}

/**
 * The deterministic composer on a worker thread, so building MIME (a large share of the relay's
 * CPU) runs on another core than webhooks and the store. Same bytes as DeterministicComposer and
 * the same BadInputErrors. With a blob store it also builds relayed mails from their facts and
 * stores their bytes in it (`composeRelay`), which takes that work off the main thread too.
 * Requests wait until the thread says it is ready; if the thread dies, the mails it held fail
 * (their jobs are retried) and the next request starts a new thread.
 */
export class ThreadedComposer implements MailComposer {
  private worker: Worker | undefined;
  private ready = false;
  private readonly queued: ComposeRequest[] = [];
  private readonly pending = new Map<number, Waiter>();
  private nextId = 0;
  private closed = false;

  /**
   * `entry`: the thread's script, when the server runs from a bundle that has one; by default
   * compose-thread.js, which loads the TypeScript through tsx.
   */
  constructor(
    private readonly data: ComposerThreadData = {},
    private readonly entry: URL | string = new URL('./compose-thread.js', import.meta.url),
  ) {}

  /** Starts the thread now rather than on the first mail (it takes a moment to load). */
  warm(): this {
    this.thread();
    return this;
  }

  async compose(mail: OutgoingMail): Promise<Buffer> {
    return (await this.request({ kind: 'mail', mail })).raw;
  }

  /**
   * Builds the relayed mail for `input`, composes it and stores its bytes in the blob store (or
   * seals a small one for its blob's row), all on the thread; resolves once the bytes are stored
   * or ready to be. Needs the blob store.
   */
  async composeRelay(input: RelayMailInput): Promise<ComposedRelay> {
    if (this.data.blobStore === undefined && this.data.blobRoot === undefined) throw new Error('composeRelay needs the blob store');
    const reply = await this.request({ kind: 'relay', input });
    return { raw: reply.raw, messageId: reply.messageId!, rawSha256: reply.rawSha256!, ...(reply.inline ? { inline: reply.inline } : {}) };
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private request(body: { kind: 'mail'; mail: OutgoingMail } | { kind: 'relay'; input: RelayMailInput }): Promise<Composed> {
    if (this.closed) return Promise.reject(new Error('the MIME composer is closed'));
    const request = { id: (this.nextId += 1), ...body } as ComposeRequest;
    return new Promise((resolve, reject) => {
      const worker = this.thread();
      // Held while mails are in the thread, so a caller awaiting one is never left behind.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(request.id, { resolve, reject });
      if (this.ready) worker.postMessage(request);
      else this.queued.push(request);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.entry, { workerData: this.data });
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
      if ('raw' in reply) {
        const { raw, inline, ...rest } = reply;
        waiter.resolve({ ...rest, raw: asBuffer(raw), ...(inline ? { inline: asBuffer(inline) } : {}) });
      } else waiter.reject(toError(reply.error));
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

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * A failure the thread reported, as the error the relay's retry rules read. A blob store out of
 * space is transient and says so (the store removed what it began to write; freeing space is all
 * it takes); other system errors keep their code.
 */
function toError(error: { badInput: boolean; code: string; message: string; errno?: string }): Error {
  if (error.badInput) return new BadInputError(error.code, error.message);
  if (error.errno === 'ENOSPC' || error.errno === 'EDQUOT') {
    const what = error.errno === 'ENOSPC' ? 'the disk of the blob store is full' : 'the blob store is over its disk quota';
    return new UpstreamError('blob-store', `The relayed mail could not be stored: ${what} (${error.errno}). Nothing was kept; free space and it is tried again.`, 'transient', error.errno);
  }
  return Object.assign(new Error(error.message), error.errno ? { code: error.errno } : {});
}
