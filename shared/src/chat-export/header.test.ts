import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMON_HEADER, commonDateParts, newCommonHeader, NOT_A_HEADER, OTHER_FORM, readCommonHeader } from './header.js';

// The common form as a regular expression: readCommonHeader reads exactly this, by hand.
const commonPattern = /^\[?(\d{1,4})([./-])(\d{1,2})[./-](\d{2,4}),? (\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\] | - )/;

/** What the regular expression says about a line, in readCommonHeader's terms. */
function byPattern(line: string): { form: number; fields?: unknown } {
  const m = commonPattern.exec(line);
  if (!m) return { form: OTHER_FORM };
  const [hour, minute, second] = [Number(m[5]), Number(m[6]), m[7] === undefined ? 0 : Number(m[7])];
  if (hour > 23 || minute > 59 || second > 59) return { form: NOT_A_HEADER };
  return { form: COMMON_HEADER, fields: { parts: [m[1], m[3], m[4]], separator: m[2], hour, minute, second, rest: line.slice(m[0].length) } };
}

function byHand(line: string): { form: number; fields?: unknown } {
  const h = newCommonHeader();
  const form = readCommonHeader(line, h);
  if (form !== COMMON_HEADER) return { form };
  return { form, fields: { parts: commonDateParts(line, h), separator: String.fromCharCode(h.separator), hour: h.hour, minute: h.minute, second: h.second, rest: line.slice(h.restStart) } };
}

describe('readCommonHeader', () => {
  it('reads the usual Android and iOS headers', () => {
    expect(byHand('14/03/2024, 09:12 - Jane: hi')).toEqual(byPattern('14/03/2024, 09:12 - Jane: hi'));
    expect(byHand('[14.03.24, 09:12:45] Jane: hi')).toMatchObject({ form: COMMON_HEADER, fields: { parts: ['14', '03', '24'], separator: '.', second: 45, rest: 'Jane: hi' } });
    expect(byHand('14/03/2024, 24:00 - Jane: hi').form).toBe(NOT_A_HEADER);
    expect(byHand('3/14/24, 9:12 PM - Jane: hi').form).toBe(OTHER_FORM);
  });

  it('agrees with the regular expression on every line made of header characters', () => {
    // Lines from the characters a header uses, so that near-misses of every kind come up.
    const pieces = fc.constantFrom('1', '2', '9', '0', '12', '2024', '/', '.', '-', ':', ',', ' ', '[', ']', ' - ', '] ', 'x', '\u202f', '99999');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 24 }).map((p) => p.join('')), (line) => {
        expect(byHand(line)).toEqual(byPattern(line));
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with the regular expression on headers with one character changed', () => {
    const headers = ['14/03/2024, 09:12 - A: x', '[1/2/24, 9:05:07] B: y', '2024-03-14 23:59 - C: z', '1.2.2024 9.05.07 - D: w'];
    fc.assert(
      fc.property(fc.constantFrom(...headers), fc.nat(30), fc.constantFrom('', '0', '7', '/', ':', ' ', ',', ']', '-', '.', 'a'), (header, at, ch) => {
        const line = header.slice(0, at) + ch + header.slice(at + 1);
        expect(byHand(line)).toEqual(byPattern(line));
      }),
      { numRuns: 5_000 },
    );
  });
});
