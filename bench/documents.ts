import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ThreadedDocumentReader } from '../bridge-server/src/search/document-reader.js';
import type { DocumentKind } from '../bridge-server/src/core/documents.js';
import { docxOf, pdfOf } from '../bridge-server/src/search/test-documents.js';
import { percentile } from './support/stats.js';

export interface DocumentsResult {
  /** The first document read: the reader's thread started and its PDF library loaded. */
  pdf_first_read_ms: number;
  pdf_pages: number;
  pdf_p50_ms: number;
  pdf_pages_per_s: number;
  docx_paragraphs: number;
  docx_p50_ms: number;
  /** Characters of text each gave (the docx is cut at the 500,000 kept of one document). */
  pdf_characters: number;
  docx_characters: number;
  /**
   * How far this process's resident memory rose over the reads above what it held before the
   * first: the reader's thread, its libraries and the documents in it.
   */
  rss_growth_mib: number;
}

const clause = 'The tenant shall keep the premises in good repair and condition and shall pay the rent on the usual quarter days. ';

/**
 * The document reader's thread as `wa-bridge serve` starts it: its entry in the server's bundle,
 * where npm packages load natively (from the TypeScript sources, tsx would compile the PDF library
 * in the thread and hold some 300 MB more).
 */
function bundledThread(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [path.join(root, 'bridge-server/bin/wa-bridge.js'), 'serve', '--help'], { stdio: 'ignore' });
  const cache = path.join(root, 'bridge-server/node_modules/.cache/wa-bridge');
  const thread = (JSON.parse(readFileSync(path.join(cache, 'serve.json'), 'utf8')) as { threads: Record<string, string> }).threads.documentText;
  if (!thread) throw new Error('the serve bundle has no document reader thread');
  return path.join(cache, 'serve', thread);
}

/**
 * Documents read for search by the bridge's own reader (its bundled thread, its limits): a
 * 100-page PDF and a 2,000-paragraph Word document of lease-like text, each read `runs` times
 * after a first read that starts the thread.
 */
export async function benchDocuments(options: { runs?: number } = {}): Promise<DocumentsResult> {
  const runs = options.runs ?? 7;
  const pages = 100;
  const paragraphs = 2000;
  const pdf = await pdfOf(Array.from({ length: pages }, (_, i) => `Page ${i + 1}. ${clause.repeat(20)}`));
  const docx = await docxOf(Array.from({ length: paragraphs }, (_, i) => `Paragraph ${i + 1}. ${clause.repeat(2)}`));
  const reader = new ThreadedDocumentReader({ entry: bundledThread() });
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const read = async (bytes: Buffer, kind: DocumentKind) => {
      const started = performance.now();
      const result = await reader.read(bytes, kind);
      if (result.state !== 'indexed') throw new Error(`the ${kind} gave no text: ${result.reason}`);
      return { ms: performance.now() - started, characters: result.text.length };
    };
    const first = await read(pdf, 'pdf');
    const pdfTimes: number[] = [];
    const docxTimes: number[] = [];
    let docxCharacters = 0;
    for (let i = 0; i < runs; i += 1) {
      pdfTimes.push((await read(pdf, 'pdf')).ms);
      const docxRead = await read(docx, 'docx');
      docxTimes.push(docxRead.ms);
      docxCharacters = docxRead.characters;
    }
    const pdfP50 = percentile(pdfTimes, 50);
    return {
      pdf_first_read_ms: Math.round(first.ms),
      pdf_pages: pages,
      pdf_p50_ms: Math.round(pdfP50),
      pdf_pages_per_s: Math.round((pages / pdfP50) * 1000),
      docx_paragraphs: paragraphs,
      docx_p50_ms: Math.round(percentile(docxTimes, 50)),
      pdf_characters: first.characters,
      docx_characters: docxCharacters,
      rss_growth_mib: Math.round((peak - before) / 1048576),
    };
  } finally {
    clearInterval(sampler);
    await reader.close();
  }
}
