import type { StreamEvent } from '@wa-bridge/shared/api/stream';
import { useStream } from '@wa-bridge/shared/ui/use-stream';
import { useCallback, useEffect, useRef } from 'react';

/** Changes that come close together (a burst of messages) read the list once. */
const quietMs = 400;

/**
 * Keeps a list current while it is on screen: calls `reload` after the bridge reports a message or
 * a changed conversation (links, assignee, window) among those the user may see that `affects`
 * says the list needs read again for, and after the stream comes back from a break, when changes
 * may have been missed. Delivery ticks and queued replies change no list, so they are left alone.
 * `affects` may also apply a change itself (a row's last activity) and answer false. A matter's
 * view also gives its matter: `changed` is called when the matter closes or a hold on it is placed
 * or released, and after a break (instead of `reload`; the view reads its list again with it).
 */
export function useListChanges(
  reload: () => void,
  affects: (event: Extract<StreamEvent, { type: 'message' | 'conversation' }>) => boolean,
  matter?: { id: number; changed(): void },
): void {
  const latest = useRef({ reload, affects, matter });
  latest.current = { reload, affects, matter };
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
        if (connectedBefore.current) {
          // A matter's view reads its list again with the matter.
          if (latest.current.matter) latest.current.matter.changed();
          else soon();
        }
        connectedBefore.current = true;
        return;
      }
      if ((event.type === 'message' || event.type === 'conversation') && latest.current.affects(event)) soon();
      else if (event.type === 'matter' && event.matterId === latest.current.matter?.id) latest.current.matter.changed();
    },
    [soon],
  );
  useStream(undefined, onEvent);
}

/**
 * True the first time a conversation is named to it, false after: a list that reads itself again
 * when a conversation it does not show writes (it may be new) does so once for each, not at every
 * message of the conversations on other matters.
 */
export function useFirstSight(): (conversationId: number) => boolean {
  const seen = useRef(new Set<number>());
  return useCallback((conversationId: number) => {
    if (seen.current.has(conversationId)) return false;
    seen.current.add(conversationId);
    return true;
  }, []);
}

/** The row with its last activity moved to `at`, unless it already shows a later one (an imported message, say). */
export function laterActivity<T extends { lastActivityAt: string }>(row: T, at: string): T {
  return Date.parse(at) > Date.parse(row.lastActivityAt) ? { ...row, lastActivityAt: at } : row;
}
