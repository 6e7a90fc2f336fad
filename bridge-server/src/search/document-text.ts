import yauzl, { type Entry } from 'yauzl';
import type { DocumentKind, DocumentText } from '../core/documents.js';

/**
 * The text of a document a client sent (a PDF, a Word .docx, a plain text or CSV file), for the
 * archive's search: a solicitor looking for "clause 4" finds the lease it is in. Runs on a worker
 * thread of its own (document-text-worker.ts, started by document-reader.ts), which a document
 * that takes too long or too much memory ends without touching anything else.
 */

export interface DocumentTextLimits {
  /** Documents larger than this are not read. */
  bytes: number;
  /** Text kept of one document, in characters; the rest is not searchable. */
  characters: number;
  /** Pages of a PDF read. */
  pages: number;
  /** What a .docx may unpack to, all its entries together. */
  unpackedBytes: number;
}

export const DOCUMENT_TEXT_LIMITS: DocumentTextLimits = {
  bytes: 50 * 1024 * 1024,
  characters: 500_000,
  pages: 1_000,
  unpackedBytes: 100 * 1024 * 1024,
};

/** Runs of white space (line ends included) made one space, the ends trimmed, cut at `characters`. */
function tidy(text: string, characters: number): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  return flat.length <= characters ? flat : flat.slice(0, characters);
}

export async function extractDocumentText(bytes: Uint8Array, kind: DocumentKind, limits: DocumentTextLimits = DOCUMENT_TEXT_LIMITS): Promise<DocumentText> {
  if (bytes.byteLength > limits.bytes) return { state: 'none', reason: `larger than ${limits.bytes} bytes` };
  let text: string;
  try {
    if (kind === 'pdf') text = await pdfText(bytes, limits);
    else if (kind === 'docx') text = await docxText(bytes, limits);
    // No more bytes than the characters kept can take (four at most each, in UTF-8).
    else text = new TextDecoder('utf-8').decode(bytes.subarray(0, limits.characters * 4)).replaceAll('\u0000', ' ');
  } catch (error) {
    if (error instanceof Refused) return { state: 'none', reason: error.message };
    return { state: 'none', reason: `not readable as ${kind === 'text' ? 'text' : kind.toUpperCase()} (${(error instanceof Error ? error.message : String(error)).slice(0, 200)})` };
  }
  const tidied = tidy(text, limits.characters);
  return tidied === '' ? { state: 'none', reason: 'no text in it (a scan, say)' } : { state: 'indexed', text: tidied };
}

/** A document refused before it was read, with the reason. */
class Refused extends Error {}

async function pdfText(bytes: Uint8Array, limits: DocumentTextLimits): Promise<string> {
  // Loaded on first use: the library is large, and most bridges read few PDFs.
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // A copy: the library takes over the buffer it is given.
  const task = getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, disableFontFace: true, useSystemFonts: false, stopAtErrors: false, verbosity: 0 });
  const pdf = await task.promise;
  try {
    const pages: string[] = [];
    let characters = 0;
    for (let number = 1; number <= Math.min(pdf.numPages, limits.pages) && characters < limits.characters; number += 1) {
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      const words = content.items.map((item) => ('str' in item ? `${item.str}${item.hasEOL ? '\n' : ''}` : '')).join('');
      pages.push(words);
      characters += words.length;
      page.cleanup();
    }
    return pages.join('\n');
  } finally {
    await task.destroy();
  }
}

async function docxText(bytes: Uint8Array, limits: DocumentTextLimits): Promise<string> {
  await checkUnpackedSize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits.unpackedBytes);
  const mammoth = await import('mammoth');
  const { value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  return value;
}

/**
 * Refuses a zip whose entries say they unpack to more than `most` bytes, before anything is
 * unpacked: a few kilobytes can hold gigabytes of repeated bytes. Entries are not trusted to tell
 * the truth either: yauzl checks each one's size as it is read, and the thread's memory is capped.
 */
function checkUnpackedSize(zip: Buffer, most: number): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true }, (error, file) => {
      if (error || !file) return reject(new Refused(`not a Word document (${error?.message ?? 'no zip'})`));
      let total = 0;
      file.on('entry', (entry: Entry) => {
        total += entry.uncompressedSize;
        if (total > most) {
          file.close();
          return reject(new Refused(`unpacks to more than ${most} bytes`));
        }
        file.readEntry();
      });
      file.once('end', () => resolve());
      file.once('error', (failure: Error) => reject(new Refused(`not a Word document (${failure.message})`)));
      file.readEntry();
    });
  });
}
