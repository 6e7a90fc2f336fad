import type { DateOrder, ExportProfile } from '@wa-bridge/shared/chat-export';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareHere, type PrepareContext } from '../../flows/import-prepare.js';
import type { ImportThreadReply, ImportThreadRequest } from './import-events.js';
import { readExportMessages } from './read.js';
import { openExportSource } from './source.js';

/**
 * An import's event thread: reads the export's messages again (the first pass's profile is
 * given) and builds each group's events, at most `ahead` groups before the importing thread has
 * taken them. The groups' typed arrays are handed over, not copied.
 */
const { file, dateOrder, profile, context, ahead } = workerData as { file: string; dateOrder: DateOrder; profile: ExportProfile; context: PrepareContext; ahead: number };
const port = parentPort!;
let credit = ahead;
let wake: (() => void) | undefined;

port.on('message', (request: ImportThreadRequest) => {
  if (request.kind === 'more') {
    credit += 1;
    wake?.();
  }
});

function reply(message: ImportThreadReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

try {
  const source = await openExportSource(file);
  try {
    for await (const group of prepareHere(readExportMessages(source, { dateOrder, profile }), context)) {
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
      credit -= 1;
      reply({ kind: 'group', group }, [group.timestamps.buffer as ArrayBuffer, group.outbound.buffer as ArrayBuffer]);
    }
  } finally {
    await source.close();
  }
  reply({ kind: 'done' });
} catch (error) {
  reply({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}
port.close();
