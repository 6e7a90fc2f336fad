import { describe, expect, it } from 'vitest';
import { BadInputError } from './errors.js';
import { clockChangeWarnings, WallClock, type ClockChange } from './wall-time.js';

const iso = (clock: WallClock, wall: string) => new Date(clock.toInstant(wall)).toISOString();

describe('wall-clock times read in a zone', () => {
  it('applies winter and summer offsets', () => {
    const london = new WallClock('Europe/London');
    expect(iso(london, '2024-01-31T13:45:02')).toBe('2024-01-31T13:45:02.000Z');
    expect(iso(london, '2024-07-01T12:00:00')).toBe('2024-07-01T11:00:00.000Z');
    expect(iso(new WallClock('Asia/Kolkata'), '2024-01-31T13:45:00')).toBe('2024-01-31T08:15:00.000Z');
  });

  it('puts a time in the spring-forward gap just after the gap', () => {
    expect(iso(new WallClock('Europe/London'), '2024-03-31T01:30:00')).toBe('2024-03-31T01:30:00.000Z');
    expect(iso(new WallClock('America/New_York'), '2024-03-10T02:30:00')).toBe('2024-03-10T07:30:00.000Z');
  });

  it('reads a time that occurs twice in the autumn as its first occurrence', () => {
    expect(iso(new WallClock('Europe/London'), '2024-10-27T01:30:00')).toBe('2024-10-27T00:30:00.000Z');
    expect(iso(new WallClock('America/New_York'), '2024-11-03T01:30:00')).toBe('2024-11-03T05:30:00.000Z');
  });

  it('gives the same answer from its per-hour cache as without it', () => {
    const cached = new WallClock('Europe/Berlin');
    const times = ['2024-03-31T01:59:59', '2024-03-31T03:00:00', '2024-10-27T02:15:00', '2024-10-27T02:45:00', '2024-06-01T10:00:00', '2024-06-01T10:59:59'];
    for (const t of times) cached.toInstant(t);
    for (const t of times) expect(cached.toInstant(t)).toBe(new WallClock('Europe/Berlin').toInstant(t));
  });

  it('says which times fall in a clock change, and how it read them', () => {
    const london = new WallClock('Europe/London');
    const seen: ClockChange[] = [];
    const note = (change: ClockChange) => seen.push(change);
    for (const t of ['2026-03-29T00:59:59', '2026-03-29T01:30:00', '2026-03-29T02:00:00', '2026-10-25T00:59:59', '2026-10-25T01:30:00', '2026-10-25T01:45:00', '2026-10-25T02:00:00']) {
      london.toInstant(t, note);
    }
    expect(seen).toEqual([
      // 01:30 GMT: 02:30 BST, just after the gap.
      { kind: 'gap', wall: '2026-03-29T01:30:00', instant: Date.parse('2026-03-29T01:30:00Z'), offset: 0, otherOffset: 3_600_000 },
      { kind: 'overlap', wall: '2026-10-25T01:30:00', instant: Date.parse('2026-10-25T00:30:00Z'), offset: 3_600_000, otherOffset: 0 },
      // The second time in the same hour is told too, though the hour's offset is known by then.
      { kind: 'overlap', wall: '2026-10-25T01:45:00', instant: Date.parse('2026-10-25T00:45:00Z'), offset: 3_600_000, otherOffset: 0 },
    ]);
    // Asked again (from the caches), the same times are told again and read the same.
    const again: ClockChange[] = [];
    expect(london.toInstant('2026-10-25T01:50:00', (c) => again.push(c))).toBe(Date.parse('2026-10-25T00:50:00Z'));
    expect(london.toInstant('2026-10-25T01:30:00', (c) => again.push(c))).toBe(Date.parse('2026-10-25T00:30:00Z'));
    expect(london.toInstant('2026-03-29T01:59:00', (c) => again.push(c))).toBe(Date.parse('2026-03-29T01:59:00Z'));
    expect(again.map((c) => [c.kind, c.wall])).toEqual([
      ['overlap', '2026-10-25T01:50:00'],
      ['overlap', '2026-10-25T01:30:00'],
      ['gap', '2026-03-29T01:59:00'],
    ]);
  });

  it('tells a clock change at midnight, which a whole-day cache could hide', () => {
    // Santiago put its clocks back from 24:00 to 23:00 on 2024-04-06: 23:30 that day came twice.
    const santiago = new WallClock('America/Santiago');
    const seen: ClockChange[] = [];
    santiago.toInstant('2024-04-06T10:00:00', (c) => seen.push(c));
    santiago.toInstant('2024-04-06T23:30:00', (c) => seen.push(c));
    expect(seen.map((c) => [c.kind, c.wall, new Date(c.instant).toISOString()])).toEqual([['overlap', '2024-04-06T23:30:00', '2024-04-07T02:30:00.000Z']]);
    // And forward from 24:00 to 01:00 on 2024-09-08: 00:30 did not exist.
    const gap: ClockChange[] = [];
    santiago.toInstant('2024-09-08T10:00:00', (c) => gap.push(c));
    santiago.toInstant('2024-09-08T00:30:00', (c) => gap.push(c));
    expect(gap.map((c) => [c.kind, c.wall])).toEqual([['gap', '2024-09-08T00:30:00']]);
  });

  it('tells nothing on ordinary days and in zones without clock changes', () => {
    const seen: ClockChange[] = [];
    for (const zone of ['Europe/London', 'Asia/Kolkata', 'UTC']) {
      const clock = new WallClock(zone);
      for (const t of ['2026-01-15T01:30:00', '2026-03-28T01:30:00', '2026-03-30T01:30:00', '2026-07-01T12:00:00', '2026-10-24T01:30:00', '2026-10-26T01:30:00']) clock.toInstant(t, (c) => seen.push(c));
    }
    for (const t of ['2026-03-29T01:30:00', '2026-10-25T01:30:00']) new WallClock('Asia/Kolkata').toInstant(t, (c) => seen.push(c));
    expect(seen).toEqual([]);
  });

  it('words one line per time, naming its line, what is wrong with it and how it was read', () => {
    const london = new WallClock('Europe/London');
    const changes: Array<ClockChange & { line: number }> = [];
    london.toInstant('2026-03-29T01:30:00', (c) => changes.push({ ...c, line: 12 }));
    london.toInstant('2026-10-25T01:30:00', (c) => changes.push({ ...c, line: 40 }));
    expect(clockChangeWarnings({ total: 2, gaps: 1, overlaps: 1, first: changes }, 'Europe/London')).toEqual([
      'line 12: 2026-03-29 01:30:00 does not exist in Europe/London (the clocks went forward 1 hour); read as 02:30:00 UTC+01:00 (2026-03-29T01:30:00Z), just after the gap',
      'line 40: 2026-10-25 01:30:00 occurs twice in Europe/London (the clocks went back 1 hour); read as the first, UTC+01:00 (2026-10-25T00:30:00Z), not the second, UTC+00:00 (2026-10-25T01:30:00Z)',
    ]);
  });

  it('words offsets west of UTC and changes of half an hour', () => {
    const line = (zone: string, wall: string) => {
      const changes: Array<ClockChange & { line: number }> = [];
      new WallClock(zone).toInstant(wall, (c) => changes.push({ ...c, line: 7 }));
      return clockChangeWarnings({ total: changes.length, gaps: 0, overlaps: 0, first: changes }, zone);
    };
    expect(line('America/New_York', '2026-03-08T02:30:00')).toEqual([
      'line 7: 2026-03-08 02:30:00 does not exist in America/New_York (the clocks went forward 1 hour); read as 03:30:00 UTC-04:00 (2026-03-08T07:30:00Z), just after the gap',
    ]);
    expect(line('Australia/Lord_Howe', '2026-10-04T02:15:00')).toEqual([
      'line 7: 2026-10-04 02:15:00 does not exist in Australia/Lord_Howe (the clocks went forward 30 minutes); read as 02:45:00 UTC+11:00 (2026-10-03T15:45:00Z), just after the gap',
    ]);
  });

  it('counts many such times in one line and words only the first few', () => {
    const london = new WallClock('Europe/London');
    const changes: Array<ClockChange & { line: number }> = [];
    for (let minute = 0; minute < 9; minute += 1) london.toInstant(`2026-10-25T01:${String(minute * 5).padStart(2, '0')}:00`, (c) => changes.push({ ...c, line: 100 + minute }));
    london.toInstant('2026-03-29T01:10:00', (c) => changes.push({ ...c, line: 5 }));
    const lines = clockChangeWarnings({ total: 10, gaps: 1, overlaps: 9, first: changes.slice(0, 5) }, 'Europe/London');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('10 message times fall in a clock change in Europe/London: 1 does not exist (read as just after the gap), 9 occur twice (read as the first); the first 5:');
    expect(lines.slice(1).map((line) => line.slice(0, line.indexOf(':')))).toEqual(['line 100', 'line 101', 'line 102', 'line 103', 'line 104']);
  });

  it('refuses a zone that does not exist', () => {
    expect(() => new WallClock('Europe/Atlantis')).toThrow(BadInputError);
  });
});
