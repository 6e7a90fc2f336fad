import type { Command } from 'commander';
import { once } from 'node:events';
import { dateOrders, type DateOrder } from '@wa-bridge/shared/chat-export';
import { BadInputError } from '../core/errors.js';
import { readExportNdjson } from '../channels/chat-export/read.js';
import { openExportSource } from '../channels/chat-export/source.js';
import { runCommand } from './run.js';

/**
 * `wa-bridge parse-export FILE` (a fixed contract other tools rely on): prints NDJSON, one object
 * per message, keys in this order: {"date":"YYYY-MM-DDTHH:MM:SS","author":string|null,
 * "message":string,"attachment"?:{"fileName":string}}. Exit 0; exit 2 with one `wa-bridge: …`
 * line for a file that is missing, binary, no export, or a zip refused by the checks in
 * channels/chat-export/zip.ts (nothing is printed to stdout then).
 */
export function registerParseExport(program: Command): void {
  program
    .command('parse-export')
    .description('Print a WhatsApp "Export chat" file (.txt or .zip) as NDJSON, one message per line.')
    .argument('<file>', 'the exported .txt, or the .zip WhatsApp makes with media')
    .option('--date-order <order>', 'dmy, mdy or ymd: overrides the order inferred from the whole file')
    .action((file: string, options: { dateOrder?: string }) => runCommand(() => parseExport(file, parseDateOrder(options.dateOrder))));
}

export function parseDateOrder(value: string | undefined): DateOrder | undefined {
  if (value === undefined) return undefined;
  if (!(dateOrders as readonly string[]).includes(value)) throw new BadInputError('bad_date_order', `--date-order: expected dmy, mdy or ymd, got ${JSON.stringify(value)}`);
  return value as DateOrder;
}

async function parseExport(file: string, dateOrder: DateOrder | undefined): Promise<void> {
  const source = await openExportSource(file);
  const out = process.stdout;
  // A reader that stops early (head, a closed pipe) is not an error of ours.
  out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  try {
    let buffer = '';
    for await (const text of readExportNdjson(source, dateOrder ? { dateOrder } : {})) {
      buffer += text;
      // Written in large pieces: fewer, bigger writes cost less than one per chunk of the file.
      if (buffer.length >= 1 << 16) {
        const drained = out.write(buffer);
        buffer = '';
        if (!drained) await once(out, 'drain');
      }
    }
    if (buffer.length > 0) out.write(buffer);
  } finally {
    await source.close();
  }
}
