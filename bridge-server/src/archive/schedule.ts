/**
 * A task the bridge runs every `intervalMs`, and once at start when `isDue` says the last run is
 * older than that. Runs never overlap; a failure is reported and the next interval tries again,
 * it never stops the bridge. `stop` waits for a run in progress, so the store can close after it.
 */
export interface Schedule {
  stop(): Promise<void>;
}

export function scheduleRepeating(options: { intervalMs: number; isDue: () => Promise<boolean>; run: () => Promise<void>; onError: (error: Error) => void }): Schedule {
  const attempt = async (checkDue: boolean) => {
    try {
      if (checkDue && !(await options.isDue())) return;
      await options.run();
    } catch (error) {
      options.onError(error instanceof Error ? error : new Error(String(error)));
    }
  };
  let running = attempt(true);
  const timer = setInterval(() => {
    running = running.then(() => attempt(false));
  }, options.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
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
