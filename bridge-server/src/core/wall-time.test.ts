import { describe, expect, it } from 'vitest';
import { BadInputError } from './errors.js';
import { WallClock } from './wall-time.js';

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

  it('refuses a zone that does not exist', () => {
    expect(() => new WallClock('Europe/Atlantis')).toThrow(BadInputError);
  });
});
