import { mergeProfiles, type DateOrder, type ExportProfile, type ParserOptions, type PartialProfile } from '@wa-bridge/shared/chat-export';
import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ndjsonFrom, type ExportFile } from './pieces.js';
import { asBadInput } from './read.js';

/** A request to a parse-export thread, and its answer. */
export type PieceRequest =
  | { kind: 'profile'; index: number; count: number }
  /** `buffer`: written output handed back, for the piece's output to reuse. */
  | { kind: 'parse'; index: number; from: number; to: number; options: ParserOptions; buffer?: ArrayBuffer };
export type PieceReply =
  | { kind: 'profiled'; index: number; partial: PartialProfile }
  | { kind: 'parsed'; index: number; start: number; end: number; lines: number; bytes: Uint8Array }
  /** `refused`: the parser refused the text (one pass will say why); otherwise the thread failed. */
  | { kind: 'failed'; index: number; message: string; refused: boolean };

/** Second-pass pieces: large enough that a thread spends its time parsing, small enough to hold a few. */
export const PIECE_BYTES = 2 << 20;

export interface ParallelOptions {
  threads: number;
  /** The thread's entry: the bundled one, or pieces-thread.js (through tsx). */
  threadUrl: URL | string;
  dateOrder?: DateOrder;
  pieceBytes?: number;
  /** Told when a thread fails for a reason other than the text (the output is still whole). */
  warn?: (message: string) => void;
}

/** A thread's output: `release` once it is written, and its buffer goes back to the threads. */
export interface OutputPiece {
  bytes: Uint8Array;
  release(): void;
}

/**
 * The parse-export NDJSON of a plain-text UTF-8 export, parsed by `threads` threads: the first
 * pass in equal parts whose profiles merge into the file's, the second in pieces cut before lines
 * that start a message on their own, written in file order. Byte for byte the output of one pass.
 * Whatever a thread cannot do is done here in one pass: the profile when a part fails or the parts
 * cannot be merged exactly (`onePassProfile`, which throws the error one pass would), and the rest
 * of the file from the first piece that fails (with its lines numbered as in the whole file).
 * Memory: one piece per thread and one more are in flight or waiting for their turn, and their
 * buffers circulate: this thread allocates almost nothing, so it would rarely collect buffers it
 * had dropped, and their memory would pile up with the file's size.
 */
export async function* parallelExportNdjson(path: string, size: number, options: ParallelOptions, onePassProfile: () => Promise<ExportProfile>): AsyncGenerator<OutputPiece | string> {
  const pool = new ThreadPool(options.threads, options.threadUrl, { path, size });
  const file: ExportFile = { fd: openSync(path, 'r'), size };
  try {
    const parts = await Promise.all(Array.from({ length: options.threads }, (_, index) => pool.run({ kind: 'profile', index, count: options.threads })));
    for (const part of parts) if (part.kind === 'failed' && !part.refused) options.warn?.(`a parse-export thread failed (${part.message}); the first pass was read in one stream`);
    const merged = parts.every((p) => p.kind === 'profiled') ? mergeProfiles(parts.map((p) => p.partial)) : undefined;
    const profile = merged ?? (await onePassProfile());
    const parserOptions: ParserOptions = { dateOrder: options.dateOrder ?? profile.dateOrder, colonAuthors: profile.colonAuthors };

    const pieceBytes = options.pieceBytes ?? PIECE_BYTES;
    const pieces = Math.max(1, Math.ceil(size / pieceBytes));
    const ahead = options.threads + 1;
    const replies = new Map<number, Promise<PieceReply>>();
    const spare: ArrayBuffer[] = [];
    let requested = 0;
    let start = 0;
    let lines = 0;
    for (let index = 0; index < pieces; index += 1) {
      for (; requested < pieces && requested < index + ahead; requested += 1) {
        const from = requested * pieceBytes;
        const buffer = spare.pop();
        const request: PieceRequest = { kind: 'parse', index: requested, from, to: Math.min(size, from + pieceBytes), options: parserOptions, ...(buffer ? { buffer } : {}) };
        replies.set(requested, pool.run(request, buffer ? [buffer] : []));
      }
      const reply = await replies.get(index)!;
      replies.delete(index);
      if (reply.kind !== 'parsed') {
        if (reply.kind === 'failed' && !reply.refused) options.warn?.(`a parse-export thread failed (${reply.message}); the rest was read in one stream`);
        await pool.close();
        try {
          yield* ndjsonFrom(file, start, { ...parserOptions, linesBefore: lines });
        } catch (error) {
          throw asBadInput(path, error);
        }
        return;
      }
      const { bytes } = reply;
      if (bytes.length > 0) yield { bytes, release: () => void (spare.length < ahead && spare.push(bytes.buffer as ArrayBuffer)) };
      start = reply.end;
      lines += reply.lines;
    }
  } finally {
    closeSync(file.fd);
    await pool.close();
  }
}

/** Threads that take one request at a time each; a request waits for a free thread. */
class ThreadPool {
  private readonly idle: Worker[] = [];
  private readonly queue: { request: PieceRequest; transfer: ArrayBuffer[]; done: (reply: PieceReply) => void }[] = [];
  private readonly busy = new Map<Worker, (reply: PieceReply) => void>();
  private readonly workers: Worker[];
  private closed = false;

  constructor(threads: number, url: URL | string, workerData: { path: string; size: number }) {
    this.workers = Array.from({ length: threads }, () => {
      // A young generation of 24 MB: smaller ones collect more often, larger ones add to the
      // peak. A thread holds one piece and one message (at most about 4 MB): one that outgrows 32 MB
      // of old generation stops, and the rest is read in one stream.
      const worker = new Worker(url, { workerData, resourceLimits: { maxYoungGenerationSizeMb: 24, maxOldGenerationSizeMb: 32 } });
      worker.on('message', (reply: PieceReply) => this.finished(worker, reply));
      // A thread that dies takes its request with it: that request fails, and the caller reads on in one pass.
      const lost = (error: unknown) => this.finished(worker, { kind: 'failed', index: -1, message: error instanceof Error ? error.message : String(error), refused: false }, false);
      worker.on('error', lost);
      worker.on('exit', (code) => lost(new Error(`a parse-export thread exited (${code})`)));
      this.idle.push(worker);
      return worker;
    });
  }

  run(request: PieceRequest, transfer: ArrayBuffer[] = []): Promise<PieceReply> {
    if (this.closed) return Promise.resolve({ kind: 'failed', index: request.index, message: 'closed', refused: false });
    return new Promise((done) => {
      this.queue.push({ request, transfer, done });
      this.next();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { request, done } of this.queue.splice(0)) done({ kind: 'failed', index: request.index, message: 'closed', refused: false });
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private finished(worker: Worker, reply: PieceReply, reusable = true): void {
    const done = this.busy.get(worker);
    this.busy.delete(worker);
    done?.(reply);
    if (reusable) {
      if (!this.closed) this.idle.push(worker);
    } else {
      const at = this.idle.indexOf(worker);
      if (at !== -1) this.idle.splice(at, 1);
    }
    this.next();
  }

  private next(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift()!;
      const { request, transfer, done } = this.queue.shift()!;
      this.busy.set(worker, done);
      worker.postMessage(request, transfer);
    }
    // No thread left alive: what waits can only fail.
    if (this.idle.length === 0 && this.busy.size === 0 && this.queue.length > 0) {
      for (const { request, done } of this.queue.splice(0)) done({ kind: 'failed', index: request.index, message: 'no parse-export thread left', refused: false });
    }
  }
}
