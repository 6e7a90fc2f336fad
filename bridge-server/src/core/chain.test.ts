import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './chain.js';

/**
 * Every chain link in every archive was computed over canonicalJson's output, so its output may
 * never change. This is how it was first written (entries filtered, sorted and joined at every
 * level); the faster version must agree with it on any value.
 */
function firstCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((item) => firstCanonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${firstCanonicalJson(v)}`).join(',')}}`;
}

const outcome = (write: (value: unknown) => string, value: unknown): { json: string } | { error: string } => {
  try {
    return { json: write(value) };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

describe('canonicalJson', () => {
  it('writes what it always wrote, for any value (sparse arrays, undefined, odd keys, non-finite numbers)', () => {
    const anything = fc.anything({
      maxDepth: 4,
      withBoxedValues: false,
      withSparseArray: true,
      withNullPrototype: true,
      withObjectString: true,
      withDate: true,
      values: [fc.string({ unit: 'binary' }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined)],
    });
    fc.assert(
      fc.property(anything, (value) => {
        expect(outcome(canonicalJson, value)).toEqual(outcome(firstCanonicalJson, value));
      }),
      { numRuns: 1000 },
    );
  });

  it('sorts keys by UTF-16 code units and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: [undefined, 2], é: 'x', Z: undefined, '\ud83d\ude00': true, '\uffff': 0 })).toBe('{"a":[null,2],"b":1,"é":"x","😀":true,"\uffff":0}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN or Infinity/);
  });
});
