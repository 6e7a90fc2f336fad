import { describeError } from '@wa-bridge/shared/ui/format';
import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';

/**
 * A value the view reads from the bridge: loaded when the view opens and whenever `deps` (what
 * `load` reads) change, and again on `reload()`, after a change the view made. `problem` says why
 * the last load failed. An answer that arrives after a newer load started is dropped, so a quick
 * change of filter never shows the older list.
 */
export function useLoaded<T>(load: () => Promise<T>, deps: DependencyList): { value: T | null; problem: string | null; reload(): void } {
  const [value, setValue] = useState<T | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const latest = useRef(0);
  // The caller lists what `load` reads, as for useEffect.
  const run = useCallback(load, deps);
  const reload = useCallback(() => {
    const ticket = ++latest.current;
    run().then(
      (loaded) => {
        if (ticket !== latest.current) return;
        setValue(loaded);
        setProblem(null);
      },
      (error: unknown) => {
        if (ticket === latest.current) setProblem(describeError(error));
      },
    );
  }, [run]);
  useEffect(reload, [reload]);
  return { value, problem, reload };
}
