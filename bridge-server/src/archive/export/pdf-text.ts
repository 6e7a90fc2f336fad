import { existsSync } from 'node:fs';
import { openSync, type Font } from 'fontkit';

/**
 * Text in a PDF shows only the glyphs its font has, and no single free font covers Latin,
 * Cyrillic, Greek, Arabic, CJK and emoji. The transcript therefore writes each run of text in the
 * first font of a list that has its characters: DejaVu Sans (fonts-dejavu-core), then Droid Sans
 * Fallback for CJK (fonts-droid-fallback), then Symbola for symbols and emoji (fonts-symbola).
 * Without DejaVu, PDF's own Helvetica is used and characters outside Latin-1 show as '?'.
 */
const candidates = [
  { name: 'dejavu', regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf' },
  { name: 'droid', regular: '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf' },
  { name: 'symbola', regular: '/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf' },
];

export interface FontChain {
  /** Registers every font on the document under the names used by `runs`. */
  register(doc: PDFKit.PDFDocument): void;
  /** The text cut into runs, each with the registered font name that can show it. */
  runs(text: string, weight: 'regular' | 'bold'): Array<{ font: string; text: string }>;
}

export function loadFontChain(): FontChain {
  const available = candidates.filter((c) => existsSync(c.regular));
  if (available[0]?.name !== 'dejavu') return latin1Chain();
  const fonts: Array<{ name: string; regular: string; bold?: string; face: Font }> = available.map((c) => ({ ...c, face: openSync(c.regular) }));
  const pick = (codePoint: number): number => {
    if (codePoint === 0x0a || codePoint === 0x20) return 0;
    const index = fonts.findIndex((font) => font.face.hasGlyphForCodePoint(codePoint));
    return index === -1 ? 0 : index;
  };
  return {
    register(doc) {
      for (const font of fonts) {
        doc.registerFont(`${font.name}-regular`, font.regular);
        doc.registerFont(`${font.name}-bold`, font.bold ?? font.regular);
      }
    },
    runs(text, weight) {
      const out: Array<{ font: string; text: string }> = [];
      let current = -1;
      for (const char of text) {
        const index = pick(char.codePointAt(0)!);
        // Spaces and line ends stay in the run they are in, so runs do not split at every word.
        const chosen = (char === ' ' || char === '\n') && current !== -1 ? current : index;
        if (chosen === current) out[out.length - 1]!.text += char;
        else out.push({ font: `${fonts[chosen]!.name}-${weight}`, text: char });
        current = chosen;
      }
      return out;
    },
  };
}

function latin1Chain(): FontChain {
  return {
    register(doc) {
      doc.registerFont('latin-regular', 'Helvetica');
      doc.registerFont('latin-bold', 'Helvetica-Bold');
    },
    runs: (text, weight) => [{ font: `latin-${weight}`, text: text.replace(/[^\n\x20-\x7e\xa0-\xff]/g, '?') }],
  };
}

/**
 * Writes text in as many runs as it needs, wrapping within `width`. pdfkit continues a line
 * across calls with `continued`, taking the layout options from the first call.
 */
export function writeText(doc: PDFKit.PDFDocument, chain: FontChain, text: string, options: { weight?: 'regular' | 'bold'; size: number; color: string; width: number; x?: number; y?: number }): void {
  const runs = chain.runs(text === '' ? ' ' : text, options.weight ?? 'regular');
  doc.fontSize(options.size).fillColor(options.color);
  runs.forEach((run, index) => {
    doc.font(run.font);
    const continued = index < runs.length - 1;
    if (index === 0 && options.x !== undefined) doc.text(run.text, options.x, options.y, { width: options.width, continued });
    else if (index === 0) doc.text(run.text, { width: options.width, continued });
    else doc.text(run.text, { continued });
  });
}
