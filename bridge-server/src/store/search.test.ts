import { describe, expect, it } from 'vitest';
import { toFtsQuery, toTsQueryText } from './search.js';

describe('search text to an FTS5 query', () => {
  it('quotes each word as a required prefix term', () => {
    expect(toFtsQuery('Lease  agreement')).toBe('"Lease"* "agreement"*');
  });

  it('keeps FTS5 operators and punctuation from acting as syntax', () => {
    expect(toFtsQuery('survey OR NEAR(x) "quoted" -minus col:umn')).toBe('"survey"* "OR"* "NEAR"* "x"* "quoted"* "minus"* "col"* "umn"*');
  });

  it('keeps letters beyond ASCII and gives nothing for text without words', () => {
    expect(toFtsQuery('Müller façade')).toBe('"Müller"* "façade"*');
    expect(toFtsQuery('" * ( ) :')).toBeUndefined();
  });
});

describe('the FTS5 query as a PostgreSQL tsquery', () => {
  it('turns each quoted prefix term into a quoted tsquery prefix term, all required', () => {
    expect(toTsQueryText(toFtsQuery('Lease  agreement')!)).toBe("'Lease':* & 'agreement':*");
    expect(toTsQueryText(toFtsQuery('Müller OR NEAR(x) & !y')!)).toBe("'Müller':* & 'OR':* & 'NEAR':* & 'x':* & 'y':*");
  });
});
