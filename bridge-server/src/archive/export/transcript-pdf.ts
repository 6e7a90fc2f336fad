import type { TranscriptEntry } from '../../core/transcript.js';
import { formatZonedTime } from '../../core/zoned-time.js';
import { loadFontChain, selectFont, writeText, type FontChain } from './pdf-text.js';
import type { TranscriptMeta, TranscriptSection } from './transcript-html.js';

/**
 * The transcript as a PDF for printing and filing: the same entries as the HTML, chat layout
 * (client left, firm right), times with their zone, photos inline, other files listed with their
 * hashes, and a footer with the page number. `media(path)` gives a listed file's bytes.
 */
export async function transcriptPdf(meta: TranscriptMeta, sections: readonly TranscriptSection[], media: (path: string) => Buffer | undefined): Promise<Buffer> {
  // Loaded on use, like the fonts: pdfkit is large and most processes never write a PDF.
  const { default: PDFDocument } = await import('pdfkit');
  // Pages are written out as they fill (no bufferPages): a transcript of 100,000 messages has
  // some 10,000 pages, and holding them all until the end took gigabytes.
  const doc = new PDFDocument({ size: 'A4', margins: { top: 56, bottom: 56, left: 50, right: 50 }, autoFirstPage: false, info: { Title: 'WhatsApp transcript', Creator: 'wa-bridge', CreationDate: new Date(meta.exportedAt) } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  const fonts = await loadFontChain();
  fonts.register(doc);
  // Set while an entry is being drawn: a page it runs onto says whose entry continues there.
  const drawing: { entry?: string } = {};
  const footer = pageFooter(doc, fonts, () => drawing.entry);
  doc.addPage();
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
    if (section.linked !== undefined) writeText(doc, fonts, section.linked, { size: 9, color: '#444444', width });
    for (const line of section.imports) writeText(doc, fonts, line, { size: 9, color: '#444444', width });
    doc.moveDown(0.5);
    for (const entry of section.entries) drawEntry(doc, fonts, entry, meta.timeZone, width, media, drawing);
  }

  footer.finish();
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

const footerSize = 8;

/**
 * "WhatsApp transcript · page N of M" at the foot of every page, written when the page begins,
 * and above the text of a page an entry runs onto, "#N continued from the previous page · time"
 * (from `continuing`, in the characters the plain font has, as a sender's name may not be),
 * so that pages need not be kept until the end. M is not known then: every page shows one form
 * XObject (a drawing kept once in the file and placed by reference), and the form's content, the
 * page count, is written once the last page is done. The text is written as raw content inside
 * its own graphics state, so nothing of the layout in progress (font, colour, position) changes
 * when a long message runs onto a new page.
 */
function pageFooter(doc: PDFKit.PDFDocument, fonts: FontChain, continuing: () => string | undefined): { finish(): void } {
  const font = selectFont(doc, fonts.plain);
  const total = doc.ref({ Type: 'XObject', Subtype: 'Form', BBox: [0, -4, 200, 12], Resources: { Font: { [font.id]: font.ref() } } });
  const colour = '0.467 0.467 0.467 rg';
  const hex = (text: string) => `<${font.encode(text)[0].join('')}>`;
  let pages = 0;
  doc.on('pageAdded', () => {
    pages += 1;
    const prefix = `WhatsApp transcript · page ${pages} of `;
    const height = doc.page.height;
    const x = doc.page.margins.left;
    // pdfkit's coordinates run down from the top; PDF's up from the bottom.
    const baseline = height - (height - 36) - (font.ascender / 1000) * footerSize;
    doc.page.fonts[font.id] = font.ref();
    doc.page.xobjects.PageCount = total;
    doc.addContent(`q 1 0 0 -1 0 ${height} cm BT /${font.id} ${footerSize} Tf ${colour} 1 0 0 1 ${x} ${baseline} Tm ${hex(prefix)} Tj ET 1 0 0 1 ${x + font.widthOfString(prefix, footerSize)} ${baseline} cm /PageCount Do Q`);
    const entry = continuing();
    if (entry !== undefined) {
      const top = height - (doc.page.margins.top - 16) - (font.ascender / 1000) * footerSize;
      doc.addContent(`q 1 0 0 -1 0 ${height} cm BT /${font.id} ${footerSize} Tf ${colour} 1 0 0 1 ${x} ${top} Tm ${hex(entry)} Tj ET Q`);
    }
  });
  return {
    finish() {
      total.end(`BT /${font.id} ${footerSize} Tf ${colour} ${hex(String(pages))} Tj ET`);
    },
  };
}

function drawEntry(doc: PDFKit.PDFDocument, fonts: FontChain, entry: TranscriptEntry, timeZone: string, width: number, media: (path: string) => Buffer | undefined, drawing: { entry?: string }): void {
  const boxWidth = width * 0.78;
  const inner = boxWidth - 16;
  const x = doc.page.margins.left + (entry.direction === 'outbound' ? width - boxWidth : 0);
  const label = entry.kind === 'message' ? '' : `  [${entry.label}]`;
  if (doc.y > doc.page.height - doc.page.margins.bottom - 60) doc.addPage();
  const top = doc.y;
  const startPage = pageNumber(doc);
  writeText(doc, fonts, `${entry.sender}${label}`, { weight: 'bold', size: 9, color: '#1b1b1b', width: inner, x: x + 8, y: top + 6 });
  const time = formatZonedTime(entry.timestamp, timeZone);
  writeText(doc, fonts, time, { size: 8, color: '#555555', width: inner, x: x + 8, y: doc.y });
  drawing.entry = `#${entry.seq} continued from the previous page · ${time}`;
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
  writeText(doc, fonts, `#${entry.seq} · ${entry.waMessageId} · link ${entry.chainHash}`, { mono: true, size: 6, color: '#888888', width: inner, x: x + 8, y: doc.y + 2 });
  drawing.entry = undefined;
  const bottom = doc.y + 6;
  // When the entry ran onto a new page, the frame surrounds the part on this page.
  const frameTop = pageNumber(doc) === startPage ? top : doc.page.margins.top;
  doc.roundedRect(x, frameTop, boxWidth, bottom - frameTop, 6).lineWidth(0.6).strokeColor(entry.direction === 'outbound' ? '#7fbfa0' : '#bbbbbb').stroke();
  doc.x = doc.page.margins.left;
  doc.y = bottom + 8;
}

function pageNumber(doc: PDFKit.PDFDocument): number {
  const range = doc.bufferedPageRange();
  return range.start + range.count;
}
