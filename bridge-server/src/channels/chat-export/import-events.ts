import type { DateOrder, ExportProfile } from '@wa-bridge/shared/chat-export';
import { Worker } from 'node:worker_threads';
import type { PrepareGroups } from '../../flows/import.js';
import type { PrepareContext, PreparedGroup } from '../../flows/import-prepare.js';

/** What the importing thread tells an event thread, and what it answers. */
export type ImportThreadRequest = { kind: 'more' };
export type ImportThreadReply = { kind: 'group'; group: PreparedGroup } | { kind: 'done' } | { kind: 'failed'; message: string };

/** Groups an event thread may build before the importing thread takes them: about 2 MB each. */
const AHEAD = 3;

export interface ImportThreadOptions {
  file: string;
  dateOrder: DateOrder;
  /** The export's first pass, already made: the thread reads the messages only. */
  profile: ExportProfile;
  /** The thread's entry: the bundled one, or import-events-thread.js (through tsx). */
  threadUrl: URL | string;
  /** Where the groups come from after a thread failed: the messages from `skip` on, built here. */
  fallback: (context: PrepareContext, skip: number) => AsyncIterable<PreparedGroup>;
  /** Told when the thread fails (the import goes on here, with the same result). */
  warn?: (message: string) => void;
}

/**
 * An import's events built on a thread of their own while this one chains and stores them: on two
 * or more CPUs the parsing, the zone conversion and the events' JSON no longer wait for the
 * database, nor it for them. Groups arrive in file order. If the thread fails, the groups it did
 * not deliver are built here from the same messages, so the import's result is the same.
 */
export function prepareOnThread(options: ImportThreadOptions): PrepareGroups {
  return (context) => threadGroups(options, context);
}

async function* threadGroups(options: ImportThreadOptions, context: PrepareContext): AsyncGenerator<PreparedGroup> {
  // A thread holds the parser's chunk, one message and the groups it built ahead.
  const worker = new Worker(options.threadUrl, {
    workerData: { file: options.file, dateOrder: options.dateOrder, profile: options.profile, context, ahead: AHEAD },
    resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 64 },
  });
  const ready: PreparedGroup[] = [];
  let finished = false;
  let failure: string | undefined;
  let wake: (() => void) | undefined;
  const settle = () => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (reply: ImportThreadReply) => {
    if (reply.kind === 'group') ready.push(reply.group);
    else if (reply.kind === 'done') finished = true;
    else failure ??= reply.message;
    settle();
  });
  worker.on('error', (error) => {
    failure ??= error.message;
    settle();
  });
  worker.on('exit', (code) => {
    if (!finished) failure ??= `it exited (${code})`;
    settle();
  });
  let delivered = 0;
  let chain = context.chain;
  try {
    for (;;) {
      const group = ready.shift();
      if (group) {
        const count = group.waMessageIds.length;
        delivered += count;
        if (count > 0) chain = { ...chain, seq: group.seqBefore + count, head: group.links[count - 1]! };
        yield group;
        worker.postMessage({ kind: 'more' } satisfies ImportThreadRequest);
        continue;
      }
      if (finished) return;
      if (failure !== undefined) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!finished || failure !== undefined) await worker.terminate();
  }
  options.warn?.(`an import thread failed (${failure}); the rest of the import was prepared in one thread`);
  // Built here from the next message on, chained on from the last group delivered.
  yield* options.fallback({ ...context, chain }, delivered);
}
