import PDFDocument from 'pdfkit';
import { formatZonedTime, type TranscriptEntry } from '../../core/transcript.js';
import { loadFontChain, writeText, type FontChain } from './pdf-text.js';
import type { TranscriptMeta, TranscriptSection } from './transcript-html.js';

/**
 * The transcript as a PDF for printing and filing: the same entries as the HTML, chat layout
 * (client left, firm right), times with their zone, photos inline, other files listed with their
 * hashes, and a footer with the page number. `media(path)` gives a listed file's bytes.
 */
export async function transcriptPdf(meta: TranscriptMeta, sections: readonly TranscriptSection[], media: (path: string) => Buffer | undefined): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margins: { top: 56, bottom: 56, left: 50, right: 50 }, bufferPages: true, info: { Title: 'WhatsApp transcript', Creator: 'wa-bridge', CreationDate: new Date(meta.exportedAt) } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  const fonts = loadFontChain();
  fonts.register(doc);
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;

  writeText(doc, fonts, 'WhatsApp transcript', { weight: 'bold', size: 18, color: '#1b1b1b', width });
  doc.moveDown(0.3);
  writeText(doc, fonts, `Exported ${formatZonedTime(meta.exportedAt, meta.timeZone)} by ${meta.exportedBy}`, { size: 9, color: '#444444', width });
  writeText(doc, fonts, `Selection: ${meta.selection}`, { size: 9, color: '#444444', width });
  writeText(doc, fonts, `Times in ${meta.timeZone}, with the offset on every time. Every file of the bundle is listed with its SHA-256 in the signed manifest.json.`, { size: 9, color: '#444444', width });
  for (const section of sections) {
    doc.moveDown(1);
    writeText(doc, fonts, section.title, { weight: 'bold', size: 13, color: '#0b5f4b', width });
    writeText(doc, fonts, `Client ${section.client} · chat id ${section.chatId} · ${section.entries.length} event(s)`, { size: 9, color: '#444444', width });
    doc.moveDown(0.5);
    for (const entry of section.entries) drawEntry(doc, fonts, entry, meta.timeZone, width, media);
  }

  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i += 1) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    writeText(doc, fonts, `WhatsApp transcript · page ${i + 1} of ${range.count}`, { size: 8, color: '#777777', width, x: doc.page.margins.left, y: doc.page.height - 36 });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

function drawEntry(doc: PDFKit.PDFDocument, fonts: FontChain, entry: TranscriptEntry, timeZone: string, width: number, media: (path: string) => Buffer | undefined): void {
  const boxWidth = width * 0.78;
  const inner = boxWidth - 16;
  const x = doc.page.margins.left + (entry.direction === 'outbound' ? width - boxWidth : 0);
  const label = entry.kind === 'message' ? '' : `  [${entry.label}]`;
  if (doc.y > doc.page.height - doc.page.margins.bottom - 60) doc.addPage();
  const top = doc.y;
  const startPage = doc.bufferedPageRange().count;
  writeText(doc, fonts, `${entry.sender}${label}`, { weight: 'bold', size: 9, color: '#1b1b1b', width: inner, x: x + 8, y: top + 6 });
  writeText(doc, fonts, formatZonedTime(entry.timestamp, timeZone), { size: 8, color: '#555555', width: inner, x: x + 8, y: doc.y });
  doc.moveDown(0.2);
  writeText(doc, fonts, entry.text, { size: 10, color: '#1b1b1b', width: inner, x: x + 8, y: doc.y });
  for (const file of entry.files) {
    const bytes = /^image\/(png|jpeg)$/.test(file.contentType) ? media(file.path) : undefined;
    if (bytes) {
      try {
        // pdfkit's openImage (its image mixin) measures the picture; its typings leave it out.
        const image = (doc as unknown as { openImage(src: Buffer): { width: number; height: number } }).openImage(bytes);
        const scale = Math.min(160 / image.width, 160 / image.height, 1);
        if (doc.y + image.height * scale + 8 > doc.page.height - doc.page.margins.bottom) doc.addPage();
        const y = doc.y + 4;
        doc.image(image as unknown as Buffer, x + 8, y, { width: image.width * scale, height: image.height * scale });
        doc.y = y + image.height * scale + 2;
      } catch {
        // A damaged picture is still listed below with its hash.
      }
    }
    writeText(doc, fonts, `File: ${file.fileName} (${file.contentType}, ${file.size} bytes) SHA-256 ${file.sha256}`, { size: 8, color: '#333333', width: inner, x: x + 8, y: doc.y + 2 });
  }
  if (entry.marks.length > 0) writeText(doc, fonts, entry.marks.join(' · '), { size: 8, color: '#8a1c1c', width: inner, x: x + 8, y: doc.y + 2 });
  writeText(doc, fonts, `#${entry.seq} · ${entry.waMessageId} · link ${entry.chainHash}`, { size: 6, color: '#888888', width: inner, x: x + 8, y: doc.y + 2 });
  const bottom = doc.y + 6;
  // When the entry ran onto a new page, the frame surrounds the part on this page.
  const frameTop = doc.bufferedPageRange().count === startPage ? top : doc.page.margins.top;
  doc.roundedRect(x, frameTop, boxWidth, bottom - frameTop, 6).lineWidth(0.6).strokeColor(entry.direction === 'outbound' ? '#7fbfa0' : '#bbbbbb').stroke();
  doc.x = doc.page.margins.left;
  doc.y = bottom + 8;
}
