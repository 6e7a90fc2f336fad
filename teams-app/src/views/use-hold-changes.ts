import type { StreamEvent } from '@wa-bridge/shared/api/stream';
import { useStream } from '@wa-bridge/shared/ui/use-stream';
import { useCallback, useRef } from 'react';

/**
 * Reads a compliance officer's list again when the live stream says a legal hold was placed or
 * released (by anyone, over the API or with the CLI), and after the stream was broken, when one may
 * have been missed.
 */
export function useHoldChanges(reload: () => void): void {
  const latest = useRef(reload);
  latest.current = reload;
  const connectedBefore = useRef(false);
  const onEvent = useCallback((event: StreamEvent) => {
    if (event.type === 'holds') latest.current();
    else if (event.type === 'ready') {
      // The first "ready" comes right after the list's own first read; a later one follows a break.
      if (connectedBefore.current) latest.current();
      connectedBefore.current = true;
    }
  }, []);
  useStream(undefined, onEvent);
}
