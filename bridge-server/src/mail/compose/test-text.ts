import fc from 'fast-check';

/**
 * Text for property tests of the composer: line ends of every kind, whitespace before them, long
 * lines with and without spaces, "=" and dots, non-ASCII of 2 to 4 bytes, control bytes, and the
 * `samples` a test adds. `longLine` and `words` bound the long runs.
 */
export function mimeText(options: { samples: string[]; longLine: [number, number]; words: [number, number]; pieces: number }): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom(...options.samples),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.integer({ min: options.longLine[0], max: options.longLine[1] }).map((n) => 'x'.repeat(n)),
    fc.integer({ min: options.words[0], max: options.words[1] }).map((n) => 'word '.repeat(n)),
  );
  return fc.array(piece, { maxLength: options.pieces }).map((pieces) => pieces.join(''));
}
