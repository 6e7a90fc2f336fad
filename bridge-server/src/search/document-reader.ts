import { RequestThread } from '../mail/request-thread.js';
import type { DocumentKind, DocumentText } from '../core/documents.js';

export interface DocumentTextRequest {
  bytes: Uint8Array;
  kind: DocumentKind;
}

/** Reads the text of documents; `read` never throws: a document that cannot be read says why. */
export interface DocumentReader {
  read(bytes: Uint8Array, kind: DocumentKind): Promise<DocumentText>;
  close(): Promise<void>;
}

/** How long one document may take, and how much memory the thread reading it may use. */
export const READ_TIMEOUT_MS = 60_000;
const THREAD_MEMORY_MB = 512;
/** A thread that has read nothing for this long ends, and the memory its libraries hold with it. */
const IDLE_MS = 60_000;

/**
 * The reader on a worker thread of its own, one document at a time: a document that takes longer
 * than `timeoutMs` ends the thread (the next starts a new one), and one that needs more memory
 * than the thread may have ends it likewise. Either way the document is reported unread, with
 * the reason, and nothing else in the bridge is held up or touched.
 */
export class ThreadedDocumentReader implements DocumentReader {
  private thread: RequestThread<DocumentTextRequest, DocumentText, { message: string }> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private idle: NodeJS.Timeout | undefined;

  private readonly entry: URL | string;
  private readonly timeoutMs: number;
  private readonly memoryMb: number;

  /**
   * `entry`: the thread's script, when the server runs from a bundle that has one; by default
   * document-text-thread.js, which loads the TypeScript through tsx. `timeoutMs` and `memoryMb`
   * bound one document's reading (READ_TIMEOUT_MS and THREAD_MEMORY_MB unless given).
   */
  constructor(options: { entry?: URL | string; timeoutMs?: number; memoryMb?: number } = {}) {
    this.entry = options.entry ?? new URL('./document-text-thread.js', import.meta.url);
    this.timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
    this.memoryMb = options.memoryMb ?? THREAD_MEMORY_MB;
  }

  read(bytes: Uint8Array, kind: DocumentKind): Promise<DocumentText> {
    const next = this.queue.then(() => this.readNow(bytes, kind));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readNow(bytes: Uint8Array, kind: DocumentKind): Promise<DocumentText> {
    clearTimeout(this.idle);
    this.thread ??= new RequestThread({
      entry: this.entry,
      data: {},
      name: 'the document reader',
      toError: (failure) => new Error(failure.message),
      resourceLimits: { maxOldGenerationSizeMb: this.memoryMb, maxYoungGenerationSizeMb: Math.min(32, this.memoryMb) },
    });
    const thread = this.thread;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.timeoutMs);
    });
    try {
      const result = await Promise.race([thread.request({ bytes, kind }), late]);
      if (result !== 'late') return result;
      await this.restart(thread);
      return { state: 'none', reason: `not read within ${this.timeoutMs / 1000} s` };
    } catch (error) {
      // The thread died (out of memory, say): the next document starts a new one.
      await this.restart(thread);
      const message = error instanceof Error ? error.message : String(error);
      return { state: 'none', reason: /memory/i.test(message) ? `needed more than ${this.memoryMb} MB to read` : `the reader failed (${message.slice(0, 200)})` };
    } finally {
      clearTimeout(timer);
      this.idle = setTimeout(() => {
        const idle = this.thread;
        if (idle) void this.restart(idle);
      }, IDLE_MS);
      this.idle.unref();
    }
  }

  private async restart(thread: RequestThread<DocumentTextRequest, DocumentText, { message: string }>): Promise<void> {
    if (this.thread === thread) this.thread = undefined;
    await thread.close();
  }

  async close(): Promise<void> {
    clearTimeout(this.idle);
    const thread = this.thread;
    this.thread = undefined;
    await thread?.close();
  }
}
