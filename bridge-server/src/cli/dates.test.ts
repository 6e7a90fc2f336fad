import { describe, expect, it } from 'vitest';
import { BadInputError } from '../core/errors.js';
import { parseIsoTime } from './dates.js';

describe('parseIsoTime', () => {
  it('reads a date or time without a zone in UTC when no zone is given', () => {
    expect(parseIsoTime('--from', '2026-03-15')).toBe(Date.UTC(2026, 2, 15));
    expect(parseIsoTime('--from', '2026-03-15T09:30')).toBe(Date.UTC(2026, 2, 15, 9, 30));
  });

  it('reads one without a zone in the zone given, across a change of offset', () => {
    // Los Angeles is UTC-7 on 15 March 2026 (summer time began on the 8th), UTC-8 in January.
    expect(parseIsoTime('--from', '2026-03-15', 'America/Los_Angeles')).toBe(Date.UTC(2026, 2, 15, 7));
    expect(parseIsoTime('--to', '2026-01-10T17:45:30.250', 'America/Los_Angeles')).toBe(Date.UTC(2026, 0, 11, 1, 45, 30, 250));
    expect(parseIsoTime('--from', '2026-07-01', 'Europe/London')).toBe(Date.UTC(2026, 5, 30, 23));
  });

  it('keeps the zone a value names, whatever zone is given', () => {
    expect(parseIsoTime('--from', '2026-03-15T00:00:00Z', 'America/Los_Angeles')).toBe(Date.UTC(2026, 2, 15));
    expect(parseIsoTime('--from', '2026-03-15T00:00:00+01:00', 'America/Los_Angeles')).toBe(Date.UTC(2026, 2, 14, 23));
  });

  it('refuses what is not an ISO 8601 date, naming the option', () => {
    for (const value of ['15/03/2026', '2026-13-01', '2026-03-15T25:00', 'yesterday']) {
      expect(() => parseIsoTime('--from', value, 'Europe/London')).toThrow(BadInputError);
    }
    expect(() => parseIsoTime('--to', 'soon')).toThrow('--to: expected an ISO 8601 date such as 2026-01-31 or 2026-01-31T09:00:00Z, got "soon"');
  });
});
