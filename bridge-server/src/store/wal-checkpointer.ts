import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * How many WAL pages the bridge's own connection lets build up before it checkpoints them itself,
 * while the checkpointer thread is running: a backstop for a thread that fell behind or died.
 * Without the thread SQLite's default, 1,000 pages, applies.
 */
export const BACKSTOP_CHECKPOINT_PAGES = 8000;

// The thread's whole program: a connection of its own, and a passive checkpoint every `everyMs`.
// Plain CommonJS, evaluated as is, so it runs the same from the sources and from a bundle.
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const say = (what, error) => parentPort.postMessage(what + ': ' + (error && error.message ? error.message : String(error)));
let db;
try {
  db = new Database(workerData.file, { fileMustExist: true });
  db.pragma('synchronous = NORMAL');
} catch (error) {
  // The thread ends here; the backstop keeps the WAL bounded.
  say('the checkpointer thread cannot open the database', error);
}
if (db) {
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      say('WAL checkpoint failed', error);
    }
  }, workerData.everyMs);
  // Asked to stop: the connection is closed and the thread ends with nothing left to run.
  parentPort.once('message', () => {
    clearInterval(timer);
    db.close();
    parentPort.close();
  });
}
`;

/**
 * Checkpoints a SQLite database's write-ahead log on a thread of its own. A checkpoint copies the
 * pages committed to the WAL back into the database file and syncs it. Run by the connection that
 * commits (SQLite's default, once the WAL passes 1,000 pages), it cost the bridge's main thread
 * about 0.04 ms per relayed message under load, some 7% of its CPU. A passive checkpoint
 * waits for no one: it copies what no reader still needs, and writers go on meanwhile. The bridge's
 * own connection keeps a backstop (BACKSTOP_CHECKPOINT_PAGES), so the WAL stays bounded even if
 * this thread stops.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  /**
   * `onError`: what went wrong, in a sentence (a failed checkpoint is tried again at the next
   * interval; a database the thread cannot open stops it); `everyMs`: how often to run.
   */
  constructor(file: string, onError: (message: string) => void, everyMs = 100) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(threadSource, { eval: true, workerData: { file, driver, everyMs } });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (message: string) => onError(message));
    this.worker.on('error', (error: unknown) => onError(`the checkpointer thread stopped: ${messageOf(error)}`));
    // Never the reason a process stays up.
    this.worker.unref();
  }

  /** Closes the thread's connection and waits for the thread to end (a second at most). */
  async close(): Promise<void> {
    this.worker.postMessage('stop');
    const late = setTimeout(() => void this.worker.terminate(), 1000);
    await this.exited;
    clearTimeout(late);
  }
}

/** An error from the thread may arrive as a plain object (its class does not cross threads). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}
