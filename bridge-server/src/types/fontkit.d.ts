// The one part of fontkit (pdfkit's font engine) the transcript uses: does a font have a glyph.
declare module 'fontkit' {
  interface Font {
    hasGlyphForCodePoint(codePoint: number): boolean;
  }
  export function openSync(path: string): Font;
}
