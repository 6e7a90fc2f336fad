import type { Command } from 'commander';
import { once } from 'node:events';
import { dateOrders, encodingOf, type DateOrder } from '@wa-bridge/shared/chat-export';
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { BadInputError } from '../core/errors.js';
import { parallelExportNdjson } from '../channels/chat-export/parallel.js';
import { profileExport, readExportNdjson } from '../channels/chat-export/read.js';
import { openExportSource } from '../channels/chat-export/source.js';
import { runCommand } from './run.js';

/** Below this size a file is read in one stream: starting threads would cost more than they save. */
const THREADS_FROM_BYTES = 8 << 20;

/** Where the threads of parse-export start: the command's bundle names its own entry. */
export interface ParseExportThreads {
  url?: string;
}

/**
 * `wa-bridge parse-export FILE` (a fixed contract other tools rely on): prints NDJSON, one object
 * per message, keys in this order: {"date":"YYYY-MM-DDTHH:MM:SS","author":string|null,
 * "message":string,"attachment"?:{"fileName":string}}. Exit 0; exit 2 with one `wa-bridge: …`
 * line for a file that is missing, binary, no export, or a zip refused by the checks in
 * channels/chat-export/zip.ts (nothing is printed to stdout then).
 */
export function registerParseExport(program: Command, threads: ParseExportThreads = {}): void {
  program
    .command('parse-export')
    .description('Print a WhatsApp "Export chat" file (.txt or .zip) as NDJSON, one message per line.')
    .argument('<file>', 'the exported .txt, or the .zip WhatsApp makes with media')
    .option('--date-order <order>', 'dmy, mdy or ymd: overrides the order inferred from the whole file')
    .option('--threads <n>', `threads that parse a text export of ${THREADS_FROM_BYTES >> 20} MiB or more (default: the CPUs, at most 4; 1 reads in one stream)`)
    .action((file: string, options: { dateOrder?: string; threads?: string }) =>
      runCommand(() => parseExport(file, parseDateOrder(options.dateOrder), parseThreads(options.threads), threads)),
    );
}

function parseThreads(value: string | undefined): number {
  if (value === undefined) return Math.min(availableParallelism(), 4);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new BadInputError('bad_threads', `--threads: expected a whole number from 1 to 64, got ${JSON.stringify(value)}`);
  return n;
}

function warn(message: string): void {
  process.stderr.write(`wa-bridge: ${message}\n`);
}

/** True unless the file starts with a UTF-16 byte-order mark (threads read UTF-8 only). */
function isUtf8(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return encodingOf(head.subarray(0, readSync(fd, head, 0, 2, 0))) === 'utf-8';
  } finally {
    closeSync(fd);
  }
}

export function parseDateOrder(value: string | undefined): DateOrder | undefined {
  if (value === undefined) return undefined;
  if (!(dateOrders as readonly string[]).includes(value)) throw new BadInputError('bad_date_order', `--date-order: expected dmy, mdy or ymd, got ${JSON.stringify(value)}`);
  return value as DateOrder;
}

async function parseExport(file: string, dateOrder: DateOrder | undefined, threadCount: number, threads: ParseExportThreads): Promise<void> {
  const source = await openExportSource(file);
  const pieces =
    threadCount > 1 && source.kind === 'txt' && source.size >= THREADS_FROM_BYTES && isUtf8(file)
      ? parallelExportNdjson(file, source.size, { threads: threadCount, threadUrl: threads.url ?? new URL('../channels/chat-export/pieces-thread.js', import.meta.url), warn, ...(dateOrder ? { dateOrder } : {}) }, () => profileExport(source))
      : readExportNdjson(source, dateOrder ? { dateOrder } : {});
  const out = process.stdout;
  // A reader that stops early (head, a closed pipe) is not an error of ours.
  out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  try {
    let buffer = '';
    const write = async (data: string | Uint8Array, written?: () => void) => {
      if (!out.write(data, written)) await once(out, 'drain');
    };
    for await (const piece of pieces) {
      if (typeof piece !== 'string') {
        // A thread's piece: already bytes, and large; its buffer is reused once written.
        if (buffer.length > 0) await write(buffer);
        buffer = '';
        await write(piece.bytes, () => piece.release());
        continue;
      }
      buffer += piece;
      // Written in large pieces: fewer, bigger writes cost less than one per chunk of the file.
      if (buffer.length >= 1 << 16) {
        await write(buffer);
        buffer = '';
      }
    }
    if (buffer.length > 0) out.write(buffer);
  } finally {
    await source.close();
  }
}
