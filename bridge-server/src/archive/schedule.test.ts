import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scheduleRepeating } from './schedule.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/** A task whose runs fail while `failing` says so; it counts its runs and its failures. */
function task(options: { failing: () => boolean; due?: () => boolean }) {
  const seen = { runs: 0, errors: [] as string[], dueAsked: 0 };
  return {
    seen,
    options: {
      intervalMs: day,
      isDue: async () => {
        seen.dueAsked += 1;
        return options.due?.() ?? true;
      },
      run: async () => {
        seen.runs += 1;
        if (options.failing()) throw new Error(`run ${seen.runs} failed`);
      },
      onError: (error: Error) => void seen.errors.push(error.message),
    },
  };
}

describe('scheduleRepeating', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('tries a failed run again after a minute, then at doubling gaps, until it succeeds', async () => {
    let failures = 3;
    const { seen, options } = task({ failing: () => failures-- > 0 });
    const schedule = scheduleRepeating(options);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toMatchObject({ runs: 1, errors: ['run 1 failed'] });
    await vi.advanceTimersByTimeAsync(minute - 1);
    expect(seen.runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen.runs).toBe(2);
    await vi.advanceTimersByTimeAsync(2 * minute);
    expect(seen.runs).toBe(3);
    await vi.advanceTimersByTimeAsync(4 * minute);
    expect(seen).toMatchObject({ runs: 4, errors: ['run 1 failed', 'run 2 failed', 'run 3 failed'] });
    // Succeeded: nothing more until the next interval.
    await vi.advanceTimersByTimeAsync(day - 8 * minute);
    expect(seen.runs).toBe(4);
    await schedule.stop();
  });

  it('waits at most an hour between tries, and starts again from a minute after a success', async () => {
    let failing = true;
    const { seen, options } = task({ failing: () => failing });
    const schedule = scheduleRepeating(options);
    // Tries at 0, then after 1, 2, 4, 8, 16, 32 minutes, then hourly.
    await vi.advanceTimersByTimeAsync((1 + 2 + 4 + 8 + 16 + 32) * minute);
    expect(seen.runs).toBe(7);
    await vi.advanceTimersByTimeAsync(hour - 1);
    expect(seen.runs).toBe(7);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen.runs).toBe(8);
    failing = false;
    await vi.advanceTimersByTimeAsync(hour);
    expect(seen).toMatchObject({ runs: 9, errors: Array.from({ length: 8 }, (_, i) => `run ${i + 1} failed`) });
    // The next failure is tried again after a minute, not an hour.
    failing = true;
    await vi.advanceTimersByTimeAsync(day - 63 * minute - 2 * hour);
    expect(seen.runs).toBe(10);
    await vi.advanceTimersByTimeAsync(minute);
    expect(seen.runs).toBe(11);
    await schedule.stop();
  });

  it('does not run a retry when the task is no longer due (another process did the work)', async () => {
    let due = true;
    const { seen, options } = task({ failing: () => true, due: () => due });
    const schedule = scheduleRepeating(options);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.runs).toBe(1);
    due = false;
    await vi.advanceTimersByTimeAsync(minute);
    expect(seen).toMatchObject({ runs: 1, dueAsked: 2 });
    await schedule.stop();
  });

  it('leaves no retry behind once stopped', async () => {
    const { seen, options } = task({ failing: () => true });
    const schedule = scheduleRepeating(options);
    await vi.advanceTimersByTimeAsync(0);
    await schedule.stop();
    await vi.advanceTimersByTimeAsync(2 * day);
    expect(seen.runs).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
