import type { DocumentText } from '../core/documents.js';
import { serveRequests } from '../mail/request-thread.js';
import { extractDocumentText } from './document-text.js';
import type { DocumentTextRequest } from './document-reader.js';

/** Runs on the document reader's worker thread: the text of each document it is sent. */
serveRequests<DocumentTextRequest, DocumentText, { message: string }>(
  async ({ bytes, kind }) => ({ answer: await extractDocumentText(bytes, kind) }),
  (error) => ({ message: error instanceof Error ? error.message : String(error) }),
);
