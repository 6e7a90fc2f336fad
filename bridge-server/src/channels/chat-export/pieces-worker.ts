import { ChatExportError } from '@wa-bridge/shared/chat-export';
import { openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { parsePiece, profilePart, type ExportFile } from './pieces.js';
import type { PieceReply, PieceRequest } from './parallel.js';

/**
 * A parse-export thread: answers the first-pass and second-pass requests of parallel.ts for one
 * file, one at a time. Output goes back as UTF-8 bytes whose buffer is handed over, not copied.
 */
const { path, size } = workerData as { path: string; size: number };
const file: ExportFile = { fd: openSync(path, 'r'), size };
const port = parentPort!;

port.on('message', (request: PieceRequest) => {
  try {
    if (request.kind === 'profile') {
      reply({ kind: 'profiled', index: request.index, partial: profilePart(file, request.index, request.count) });
    } else {
      const { start, end, lines, ndjson } = parsePiece(file, request.from, request.to, request.options, request.buffer);
      reply({ kind: 'parsed', index: request.index, start, end, lines, bytes: ndjson }, [ndjson.buffer as ArrayBuffer]);
    }
  } catch (error) {
    reply({ kind: 'failed', index: request.index, message: error instanceof Error ? error.message : String(error), refused: error instanceof ChatExportError });
  }
});

function reply(message: PieceReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}
