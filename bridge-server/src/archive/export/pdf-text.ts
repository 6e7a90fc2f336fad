import { existsSync } from 'node:fs';
import type { Font } from 'fontkit';

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
  /** Registers every font on the document under the names used by `runs`, and `mono`. */
  register(doc: PDFKit.PDFDocument): void;
  /** The registered name of the regular face of the first font (Latin-1 text such as the footer). */
  plain: string;
  /** The text cut into runs, each with the registered font name that can show it. */
  runs(text: string, weight: 'regular' | 'bold'): Array<{ font: string; text: string }>;
}

/** Loaded on use (fontkit is large), so a bridge that never exports never loads it. */
export async function loadFontChain(): Promise<FontChain> {
  const available = candidates.filter((c) => existsSync(c.regular));
  if (available[0]?.name !== 'dejavu') return latin1Chain();
  const { openSync } = await import('fontkit');
  const fonts: Array<{ name: string; regular: string; bold?: string; face: Font }> = available.map((c) => ({ ...c, face: openSync(c.regular) }));
  // Remembered per character: asking the fonts for every character of a long transcript adds up.
  const picked = new Map<number, number>();
  const pick = (codePoint: number): number => {
    if (codePoint === 0x0a || codePoint === 0x20) return 0;
    let index = picked.get(codePoint);
    if (index === undefined) {
      index = Math.max(0, fonts.findIndex((font) => font.face.hasGlyphForCodePoint(codePoint)));
      picked.set(codePoint, index);
    }
    return index;
  };
  return {
    plain: `${fonts[0]!.name}-regular`,
    register(doc) {
      registerMono(doc);
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
    plain: 'latin-regular',
    register(doc) {
      registerMono(doc);
      doc.registerFont('latin-regular', 'Helvetica');
      doc.registerFont('latin-bold', 'Helvetica-Bold');
    },
    runs: (text, weight) => [{ font: `latin-${weight}`, text: text.replace(/[^\n\x20-\x7e\xa0-\xff]/g, '?') }],
  };
}

/**
 * Machine-made text (ids, hashes, sequence numbers) is set in PDF's own Courier. Every Courier
 * glyph is 600/1000 of the size wide, so such text is measured, wrapped and written here by
 * counting characters; through pdfkit's layout, shaping and measuring the unique words of
 * 100,000 links cost more than the rest of the transcript together. Only printable Latin-1 fits
 * Courier's encoding (WinAnsi, the same codes there); other text goes through the chain.
 */
const monoName = 'mono';
const courierText = /^[\x20-\x7e\xa0-\xff]*$/;
const courierAdvance = 0.6;

function registerMono(doc: PDFKit.PDFDocument): void {
  doc.registerFont(monoName, 'Courier');
}

/** The parts of pdfkit's font object used to write content directly; its typings leave them out. */
export interface PdfFont {
  id: string;
  ascender: number;
  ref(): PDFKit.PDFKitReference;
  /** Glyph codes (hex) and their positions, in 1/1000 of the size; the glyphs join the subset. */
  encode(text: string): [string[], GlyphPosition[]];
  widthOfString(text: string, size: number): number;
}

interface GlyphPosition {
  xAdvance: number;
  yAdvance: number;
  xOffset: number;
  yOffset: number;
  advanceWidth: number;
}

/** Selects a registered font and gives pdfkit's object for it. */
export function selectFont(doc: PDFKit.PDFDocument, name: string): PdfFont {
  doc.font(name);
  return (doc as unknown as { _font: PdfFont })._font;
}

export interface TextOptions {
  weight?: 'regular' | 'bold';
  /** Courier, for machine-made text. */
  mono?: boolean;
  size: number;
  color: string;
  width: number;
  x?: number;
  y?: number;
}

/**
 * Writes text in as many runs as it needs, wrapping within `width`. pdfkit continues a line
 * across calls with `continued`, taking the layout options from the first call. Text in one font
 * that fits on one line (most lines of a transcript) is written by `writeLine` instead, and longer
 * text in one font is broken at its spaces (`wordLines`) and written line by line the same way:
 * pdfkit's wrapper lays every word out several times over.
 */
export function writeText(doc: PDFKit.PDFDocument, chain: FontChain, text: string, options: TextOptions): void {
  const value = text === '' ? ' ' : text;
  doc.fontSize(options.size).fillColor(options.color);
  if (options.mono === true && courierText.test(value)) {
    writeMono(doc, value, options);
    return;
  }
  const runs = chain.runs(value, options.weight ?? 'regular');
  if (runs.length === 1) {
    const font = selectFont(doc, runs[0]!.font);
    if (!value.includes('\n') && writeLine(doc, font, value, options)) return;
    const lines = wordLines(font, value, options.size, options.width);
    if (lines !== undefined) {
      lines.forEach((line, index) => {
        const at = index === 0 ? options : { ...options, x: options.x ?? doc.x, y: doc.y };
        // A line the greedy measure let through but kerning makes too wide goes through pdfkit's wrapper.
        if (!writeLine(doc, font, line, at)) doc.text(line, at.x ?? doc.x, at.y ?? doc.y, { width: options.width });
      });
      return;
    }
  }
  runs.forEach((run, index) => {
    doc.font(run.font);
    const continued = index < runs.length - 1;
    if (index === 0 && options.x !== undefined) doc.text(run.text, options.x, options.y, { width: options.width, continued });
    else if (index === 0) doc.text(run.text, { width: options.width, continued });
    else doc.text(run.text, { continued });
  });
}

/**
 * One line at the text position, on a new page when it would cross the bottom margin, then the
 * position moved to the next line: what pdfkit's wrapper does for each line it emits.
 */
function placeLine(doc: PDFKit.PDFDocument, options: TextOptions, draw: (x: number, y: number) => void): void {
  const x = options.x ?? doc.x;
  let y = options.y ?? doc.y;
  const height = doc.currentLineHeight(true);
  if (y + height > doc.page.height - doc.page.margins.bottom) {
    doc.addPage();
    y = doc.page.margins.top;
  }
  draw(x, y);
  doc.x = x;
  doc.y = y + height;
}

/**
 * One line in one font, laid out once and written as content directly, where it fits: pdfkit's
 * text call measures and lays out a line twice and runs Unicode line breaking over it word by
 * word, which is most of what a transcript costs. The glyphs and kerning are pdfkit's own (the
 * font's `encode`), placed where pdfkit's wrapper would place the line. False, with nothing
 * written, for a line that is too wide or has glyphs placed off their pen position (marks).
 */
function writeLine(doc: PDFKit.PDFDocument, font: PdfFont, text: string, options: TextOptions): boolean {
  const [codes, positions] = font.encode(text);
  let width = 0;
  for (const position of positions) {
    if (position.xOffset !== 0 || position.yOffset !== 0 || position.yAdvance !== 0) return false;
    width += position.xAdvance;
  }
  if ((width / 1000) * options.size > options.width) return false;
  // TJ: runs of glyph codes; a number between them moves the pen back by that many 1/1000 of the size (kerning).
  let shown = '<';
  codes.forEach((code, index) => {
    shown += code;
    const kern = positions[index]!.xAdvance - positions[index]!.advanceWidth;
    if (kern !== 0 && index < codes.length - 1) shown += `> ${-kern} <`;
  });
  shown += '>';
  placeLine(doc, options, (x, y) => showText(doc, font, `[${shown}] TJ`, x, y, options));
  return true;
}

/**
 * Text-showing operators at (x, y), y down from the top as pdfkit counts, in their own graphics
 * state with their own colour, so a line begun on a new page is never left in the default black.
 */
function showText(doc: PDFKit.PDFDocument, font: PdfFont, operators: string, x: number, y: number, options: TextOptions): void {
  doc.page.fonts[font.id] = font.ref();
  // pdfkit's page space runs down from the top; text is set in PDF's, up from the bottom.
  const height = doc.page.height;
  const baseline = height - y - (font.ascender / 1000) * options.size;
  doc.addContent(`q 1 0 0 -1 0 ${height} cm ${rgb(options.color)} rg BT /${font.id} ${options.size} Tf 1 0 0 1 ${round(x)} ${round(baseline)} Tm ${operators} ET Q`);
}

function rgb(hex: string): string {
  const value = Number.parseInt(hex.slice(1), 16);
  return [value >> 16, (value >> 8) & 0xff, value & 0xff].map((c) => round(c / 255)).join(' ');
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function writeMono(doc: PDFKit.PDFDocument, text: string, options: TextOptions): void {
  const font = selectFont(doc, monoName);
  const perLine = Math.max(1, Math.floor(options.width / (courierAdvance * options.size)));
  monoLines(text, perLine).forEach((line, index) => {
    placeLine(doc, index === 0 ? options : { ...options, x: options.x ?? doc.x, y: doc.y }, (x, y) => showText(doc, font, `<${Buffer.from(line, 'latin1').toString('hex')}> Tj`, x, y, options));
  });
}

/**
 * Text in one font broken into lines at its spaces and line breaks, each line's words fitting
 * `width` (measured word by word, with the width of a space between them, and a little to spare
 * for kerning across them). Undefined when a word alone is wider than `width`, or the text holds
 * a carriage return: such text, and text with no spaces such as Chinese or Japanese, goes through
 * pdfkit's wrapper, which breaks by Unicode's rules.
 */
export function wordLines(font: Pick<PdfFont, 'widthOfString'>, text: string, size: number, width: number): string[] | undefined {
  if (text.includes('\r')) return undefined;
  const fits = width * 0.99;
  const space = font.widthOfString(' ', size);
  const lines: string[] = [];
  const measure = (word: string): number => (word === '' ? 0 : font.widthOfString(word, size));
  for (const paragraph of text.split('\n')) {
    const [first = '', ...rest] = paragraph.split(' ');
    let line = first;
    let used = measure(first);
    if (used > fits) return undefined;
    for (const word of rest) {
      const wide = measure(word);
      if (wide > fits) return undefined;
      if (used + space + wide > fits && line.trim() !== '') {
        lines.push(line);
        line = word;
        used = wide;
      } else {
        line += ` ${word}`;
        used += space + wide;
      }
    }
    lines.push(line === '' ? ' ' : line);
  }
  return lines;
}

/** Lines of at most `perLine` characters, broken after a space where there is one. */
export function monoLines(text: string, perLine: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > perLine) {
    const space = rest.lastIndexOf(' ', perLine);
    const cut = space > 0 ? space + 1 : perLine;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut);
  }
  lines.push(rest);
  return lines;
}
