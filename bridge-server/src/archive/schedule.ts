/**
 * A task the bridge runs every `intervalMs`, and once at start when `isDue` says the last run is
 * older than that. Runs never overlap; a failure is reported and never stops the bridge. A failed
 * run is tried again after `retryMs` (a minute unless given), then at doubling gaps of at most an
 * hour (nor more than the interval), while the task is still due: a backup that failed on a
 * passing fault is not left for a whole day. `stop` waits for a run in progress, so the store can
 * close after it.
 */
export interface Schedule {
  stop(): Promise<void>;
}

export function scheduleRepeating(options: { intervalMs: number; isDue: () => Promise<boolean>; run: () => Promise<void>; onError: (error: Error) => void; retryMs?: number }): Schedule {
  const firstRetryMs = options.retryMs ?? 60_000;
  const longestRetryMs = Math.min(3_600_000, options.intervalMs);
  let nextRetryMs = firstRetryMs;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  /** One more attempt after the ones before it; a retry asks first whether the task is still due. */
  const later = (checkDue: boolean) => {
    running = running.then(() => attempt(checkDue));
  };
  const attempt = async (checkDue: boolean): Promise<void> => {
    try {
      if (checkDue && !(await options.isDue())) return;
      await options.run();
      nextRetryMs = firstRetryMs;
    } catch (error) {
      options.onError(error instanceof Error ? error : new Error(String(error)));
      if (stopped) return;
      clearTimeout(retry);
      retry = setTimeout(() => later(true), Math.min(nextRetryMs, longestRetryMs));
      retry.unref();
      nextRetryMs = Math.min(nextRetryMs * 2, longestRetryMs);
    }
  };
  later(true);
  const timer = setInterval(() => {
    // The interval's own run stands in for a retry that is still waiting.
    clearTimeout(retry);
    later(false);
  }, options.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry);
      await running;
    },
  };
}

/** A repeating task as scheduleRepeating takes it. */
export type RepeatingTask = Parameters<typeof scheduleRepeating>[0];

/**
 * Starts a named repeating task: on this instance alone (repeatHere, right when no other instance
 * shares the store), or once among all instances on a shared store (ops/shared-schedules.ts).
 */
export type Repeat = (name: string, task: RepeatingTask) => Schedule;

export const repeatHere: Repeat = (_name, task) => scheduleRepeating(task);
