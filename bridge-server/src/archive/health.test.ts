import { describe, expect, it } from 'vitest';
import { isOverdue, overdueAfterMs } from './health.js';

const hour = 3_600_000;
const day = 24 * hour;

describe('isOverdue', () => {
  const upSince = Date.parse('2026-11-29T00:00:00Z');
  const task = (lastRunAt: number | null, runningSince: number | null = null) => ({ task: 'backup' as const, lastRunAt, everyMs: day, runningSince });

  it('gives a task its interval and two hours more', () => {
    const last = upSince - 3 * day;
    expect(isOverdue(task(last), last + day + overdueAfterMs, upSince)).toBe(false);
    expect(isOverdue(task(last), last + day + overdueAfterMs + 1, upSince)).toBe(true);
  });

  it('gives a task that never ran the bridge\u2019s first two hours, since the first run starts with it', () => {
    expect(isOverdue(task(null), upSince + hour, upSince)).toBe(false);
    expect(isOverdue(task(null), upSince + overdueAfterMs + 1, upSince)).toBe(true);
  });

  it('takes another margin where one is set, for a backup that runs longer than two hours', () => {
    const last = upSince - 3 * day;
    expect(isOverdue(task(last), last + day + 5 * hour, upSince, 6 * hour)).toBe(false);
    expect(isOverdue(task(last), last + day + 6 * hour + 1, upSince, 6 * hour)).toBe(true);
    expect(isOverdue(task(null), upSince + 5 * hour, upSince, 6 * hour)).toBe(false);
  });

  it('holds off while a run is going, for one interval from its start: a long backup is not late, a day-long one is stuck', () => {
    const last = upSince - 3 * day;
    const late = last + day + overdueAfterMs + hour;
    expect(isOverdue(task(last), late, upSince)).toBe(true);
    expect(isOverdue(task(last, late - 3 * hour), late, upSince)).toBe(false);
    expect(isOverdue(task(last, late - day), late, upSince)).toBe(false);
    expect(isOverdue(task(last, late - day - 1), late, upSince)).toBe(true);
    expect(isOverdue(task(null, upSince + hour), upSince + 5 * hour, upSince)).toBe(false);
  });
});
