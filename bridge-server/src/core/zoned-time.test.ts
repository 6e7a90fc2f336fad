import { describe, expect, it } from 'vitest';
import { formatZonedTime } from './zoned-time.js';

/** What Intl says for the time, in the transcript's form: the reference for the quicker path. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function byIntl(timestamp: number, timeZone: string): string {
  if (!formatters.has(timeZone)) formatters.set(timeZone, new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' }));
  const parts = formatters.get(timeZone)!.formatToParts(new Date(timestamp));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const offset = part('timeZoneName') === 'GMT' ? 'GMT+00:00' : part('timeZoneName');
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')} ${offset}`;
}

describe('formatZonedTime', () => {
  it('gives the wall time with its offset', () => {
    expect(formatZonedTime(Date.UTC(2026, 10, 25, 15, 20, 15), 'Europe/London')).toBe('2026-11-25 15:20:15 GMT+00:00');
    expect(formatZonedTime(Date.UTC(2026, 6, 1, 12), 'Europe/Berlin')).toBe('2026-07-01 14:00:00 GMT+02:00');
    expect(formatZonedTime(Date.UTC(2026, 0, 1), 'Asia/Kathmandu')).toBe('2026-01-01 05:45:00 GMT+05:45');
    expect(formatZonedTime(Date.UTC(2026, 0, 1), 'America/St_Johns')).toBe('2025-12-31 20:30:00 GMT-03:30');
  });

  it('agrees with Intl second by second across changes of offset, half-hour ones included', () => {
    const zones = ['Europe/London', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns', 'Asia/Kathmandu'];
    const days = [Date.UTC(2026, 2, 28), Date.UTC(2026, 3, 4), Date.UTC(2026, 8, 26), Date.UTC(2026, 9, 24), Date.UTC(2026, 10, 1)];
    const differing: string[] = [];
    for (const zone of zones) {
      for (const day of days) {
        for (let t = day; t < day + 2 * 86_400_000; t += 59_000) {
          if (formatZonedTime(t, zone) !== byIntl(t, zone)) differing.push(`${zone} ${new Date(t).toISOString()}: ${formatZonedTime(t, zone)}, Intl ${byIntl(t, zone)}`);
        }
      }
    }
    expect(differing).toEqual([]);
  });

  it('agrees with Intl for old dates, whose offsets may have seconds', () => {
    for (const zone of ['Europe/London', 'Europe/Amsterdam', 'Africa/Monrovia', 'Asia/Kolkata']) {
      for (const t of [Date.UTC(1890, 5, 1, 12, 0, 7), Date.UTC(1930, 0, 1), Date.UTC(1971, 11, 31, 23, 59, 59), Date.UTC(10_000, 0, 1)]) expect(formatZonedTime(t, zone)).toBe(byIntl(t, zone));
    }
  });
});
