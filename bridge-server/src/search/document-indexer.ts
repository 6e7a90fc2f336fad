import type { Logger } from 'pino';
import type { BlobStore } from '../core/ports.js';
import { recordDocumentText, releaseDocuments, takeWaitingDocuments, type WaitingDocument } from '../store/document-text.js';
import type { Executor } from '../store/executor.js';
import type { DocumentReader } from './document-reader.js';
import { documentKind, type DocumentText } from '../core/documents.js';

export interface DocumentIndexerDeps {
  db: Executor;
  blobs: BlobStore;
  reader: DocumentReader;
  logger: Logger;
  /** How long it waits when nothing is waiting; 5 s unless given. */
  idleMs?: number;
  /** Each document read, with what it gave. */
  onRead?: (outcome: DocumentText['state']) => void;
}

export interface DocumentIndexer {
  /** Looks for waiting documents now instead of at the next interval (a document was just stored). */
  nudge(): void;
  /** Stops looking, after the document being read. */
  stop(): Promise<void>;
}

/** Documents taken at a time. */
const BATCH = 4;

/**
 * Reads the text of stored documents into the search index, in the background: each document once,
 * on the document reader's thread, as its bytes arrive (a media download, an import) and, after an
 * upgrade, those stored before. Nothing it does delays a message or its mail; a document that
 * cannot be read is marked so, with the reason, and is not tried again.
 */
export function startDocumentIndexer(deps: DocumentIndexerDeps): DocumentIndexer {
  const idleMs = deps.idleMs ?? 5_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  const readOne = async (document: WaitingDocument, takenAt: number): Promise<void> => {
    const kind = documentKind(document.mimeType, document.fileName);
    let result: DocumentText;
    if (!kind) result = { state: 'none', reason: 'not a kind of document that is read' };
    else {
      const bytes = await deps.blobs.get(document.sha256).catch(() => undefined);
      result = bytes === undefined ? { state: 'none', reason: 'its file could not be read from the blob store' } : await deps.reader.read(bytes, kind);
    }
    await recordDocumentText(deps.db, document, takenAt, result);
    deps.onRead?.(result.state);
    if (result.state === 'indexed') deps.logger.info({ attachmentId: document.attachmentId, characters: result.text.length }, 'document text indexed for search');
    else deps.logger.info({ attachmentId: document.attachmentId, reason: result.reason }, 'document has no text to index');
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      let found = 0;
      try {
        const takenAt = Date.now();
        const documents = await takeWaitingDocuments(deps.db, takenAt, BATCH);
        found = documents.length;
        for (const [index, document] of documents.entries()) {
          // Stopping: the documents not read yet wait for the next start, not for a takeover.
          if (stopped) {
            await releaseDocuments(deps.db, documents.slice(index), takenAt);
            break;
          }
          await readOne(document, takenAt);
        }
      } catch (error) {
        deps.logger.warn({ err: error }, 'reading documents for search failed; tried again shortly');
      }
      if (found === 0 && !stopped) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, idleMs);
          timer.unref();
        });
        wake = undefined;
      }
    }
  };
  const running = loop();

  return {
    nudge: () => {
      clearTimeout(timer);
      wake?.();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await running;
    },
  };
}
