import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatExportError } from './errors.js';
import { ExportProfiler, mergeProfiles, type ExportProfile, type PartialProfile } from './profile.js';

const corpus = fileURLToPath(new URL('../../../tests/fixtures/exports/', import.meta.url));
const texts = readdirSync(corpus)
  .filter((f) => f.endsWith('.txt'))
  .map((name) => readFileSync(path.join(corpus, name), 'utf8'));

function onePass(text: string): ExportProfile {
  const profiler = new ExportProfiler();
  profiler.push(text);
  return profiler.end();
}

/** The text cut before the given lines (indexes into its lines), each part profiled on its own. */
function inParts(text: string, cuts: number[]): { merged: ExportProfile | undefined; parts: PartialProfile[] } {
  const lines = text.split(/(?<=\n)/);
  const at = [...new Set(cuts.map((c) => c % (lines.length + 1)))].sort((a, b) => a - b);
  const bounds = [0, ...at.filter((c) => c > 0), lines.length];
  const parts = [];
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const profiler = new ExportProfiler({ later: i > 0 });
    profiler.push(lines.slice(bounds[i], bounds[i + 1]).join(''));
    parts.push(profiler.endPartial());
  }
  return { merged: mergeProfiles(parts), parts };
}

describe('first pass in parts', () => {
  it('merges the parts of any file into the profile of one pass', () => {
    // Shuffled lines too: dates that go up and down, authors spread over the parts.
    const shuffled = texts.map((t) => t.split(/(?<=\n)/).reverse().join(''));
    fc.assert(
      fc.property(fc.constantFrom(...texts, ...shuffled), fc.array(fc.nat(400), { maxLength: 6 }), (text, cuts) => {
        const { merged, parts } = inParts(text, cuts);
        const whole = onePass(text);
        if (merged === undefined) {
          // Only when the first part holds no header: then one pass decides alone.
          expect(parts[0]!.headers).toBe(0);
          return;
        }
        expect({ ...merged, colonAuthors: [...merged.colonAuthors].sort() }).toEqual({ ...whole, colonAuthors: [...whole.colonAuthors].sort() });
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps the date-order evidence across a cut (the pair of dates on either side)', () => {
    // Only the pair 13/01 -> 02/02 says the first part is the day (it goes down within a year).
    const text = '01/01/2024, 10:00 - A: x\n13/01/2024, 10:00 - A: y\n02/02/2024, 10:00 - B: z\n';
    expect(onePass('01/01/2024, 10:00 - A: x\n12/01/2024, 10:00 - A: y\n02/02/2024, 10:00 - B: z\n').dateOrder).toBe('dmy');
    const lines = text.split(/(?<=\n)/);
    const a = new ExportProfiler();
    a.push(lines.slice(0, 2).join(''));
    const b = new ExportProfiler({ later: true });
    b.push(lines.slice(2).join(''));
    expect(mergeProfiles([a.endPartial(), b.endPartial()])).toEqual(onePass(text));
  });

  it('knows a name with ": " from an author whose texts start alike only in one part each', () => {
    // "Team: Legal" twice before the cut and "Team" saying "Sales: …" twice after: one pass sees
    // that "Team" is followed by different texts, so it is an author, not the start of a name.
    const text = ['Team: Legal: one', 'Team: Legal: two', 'Team: Sales: three', 'Team: Sales: four'].map((t, i) => `14/03/2024, 09:1${i} - ${t}\n`).join('');
    expect(onePass(text).colonAuthors.size).toBe(0);
    expect(inParts(text, [2]).merged).toEqual(onePass(text));
    expect(inParts('14/03/2024, 09:10 - Team: Legal: one\n14/03/2024, 09:11 - Team: Legal: two\n', [1]).merged!.colonAuthors).toEqual(new Map([['Team', 'Team: Legal']]));
  });

  it('leaves a file whose first part has no header to one pass', () => {
    const a = new ExportProfiler();
    a.push('a preamble line\n');
    const b = new ExportProfiler({ later: true });
    b.push('14/03/2024, 09:12 - A: hello\n');
    expect(mergeProfiles([a.endPartial(), b.endPartial()])).toBeUndefined();
  });

  it('does not refuse a later part for having no header in its first lines', () => {
    const long = `14/03/2024, 09:12 - A: start\n${'more text\n'.repeat(500)}`;
    const lines = long.split(/(?<=\n)/);
    const later = new ExportProfiler({ later: true });
    later.push(lines.slice(1).join(''));
    expect(later.endPartial().headers).toBe(0);
    const first = new ExportProfiler();
    expect(() => first.push(lines.slice(1).join(''))).toThrow(ChatExportError);
  });
});
