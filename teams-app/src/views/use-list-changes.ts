import type { StreamEvent } from '@wa-bridge/shared/api/stream';
import { useStream } from '@wa-bridge/shared/ui/use-stream';
import { useCallback, useEffect, useRef } from 'react';

/** Changes that come close together (a burst of messages) read the list once. */
const quietMs = 400;

/**
 * Keeps a list current while it is on screen: calls `reload` after the bridge reports a new
 * message or a changed conversation (links, assignee, window) among those the user may see, and
 * after the stream comes back from a break, when changes may have been missed. Delivery ticks
 * and queued replies change no list, so they are left alone; `affects` narrows it further.
 */
export function useListChanges(reload: () => void, affects: (event: StreamEvent) => boolean = () => true): void {
  const latest = useRef({ reload, affects });
  latest.current = { reload, affects };
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const connectedBefore = useRef(false);

  const soon = useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current.reload();
    }, quietMs);
  }, []);
  useEffect(() => () => clearTimeout(timer.current), []);

  const onEvent = useCallback(
    (event: StreamEvent) => {
      if (event.type === 'ready') {
        // The first "ready" comes right after the list's own first read; a later one follows a break.
        if (connectedBefore.current) soon();
        connectedBefore.current = true;
        return;
      }
      if ((event.type === 'message' || event.type === 'conversation') && latest.current.affects(event)) soon();
    },
    [soon],
  );
  useStream(undefined, onEvent);
}
