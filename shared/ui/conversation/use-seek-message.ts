import type { MessageItem } from '@wa-bridge/shared/api/conversations';
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type RefObject } from 'react';

/** Older pages read while looking for a message, and how many at most (10,000 messages). */
const seekPageSize = 200;
const seekPageLimit = 50;
export const seekMessagesLimit = seekPageSize * seekPageLimit;

export type SeekState =
  /** Reading older pages until the message is among them. */
  | 'seeking'
  /** Shown: scrolled to, marked and focused. */
  | 'found'
  /** Not in the conversation (erased, say), or further back than the pages read. */
  | 'gone'
  | 'too-far';

/**
 * The message to open a conversation at: by its id in the API (a search hit) or by its WhatsApp
 * id (the X-WhatsApp-Message-Id of the mail open in Outlook); `why` is said with it when shown.
 */
export type SeekTarget = ({ id: number } | { waMessageId: string }) & { why: string };

/** The item `target` names; by WhatsApp id, the message itself before an edit or reaction of it. */
function findTarget(target: SeekTarget, items: readonly MessageItem[]): MessageItem | undefined {
  if ('id' in target) return items.find((item) => item.id === target.id);
  const named = items.filter((item) => item.waMessageId === target.waMessageId);
  return named.find((item) => item.kind === 'message') ?? named[0];
}

/**
 * Opens the conversation at one message instead of at the newest: reads older pages, as "Show
 * older messages" would, until the message is loaded, then scrolls it into the middle of the list
 * and gives it the focus, so a screen reader reads it. `readOlder` reads the next older page of
 * `size` items and says whether it could; `olderCursor` is undefined until the newest page is in.
 * A reaction has no bubble of its own: its message is shown. Returns the id of the bubble to mark,
 * and how far the search has got.
 */
export function useSeekMessage(
  target: SeekTarget | undefined,
  items: MessageItem[],
  olderCursor: string | null | undefined,
  readOlder: (size: number) => Promise<boolean>,
  listRef: RefObject<HTMLElement | null>,
): { state: SeekState | null; bubbleId: number | null } {
  const [pagesRead, setPagesRead] = useState(0);
  const [failed, setFailed] = useState(false);
  const reading = useRef(false);
  const shown = useRef<number | null>(null);
  // A new target (a hit chosen after the first, or the same one chosen again) is looked for
  // afresh and shown, even when it is the bubble shown before. Targets are told apart by identity:
  // keep one in state rather than making it anew at each render.
  const [lookingFor, setLookingFor] = useState(target);
  if (lookingFor !== target) {
    setLookingFor(target);
    setPagesRead(0);
    setFailed(false);
    shown.current = null;
  }

  const bubbleId = useMemo(() => {
    const item = target === undefined ? undefined : findTarget(target, items);
    if (!item) return null;
    if (item.kind !== 'reaction') return item.id;
    return items.find((candidate) => candidate.kind !== 'reaction' && candidate.waMessageId === item.targetWaMessageId)?.id ?? null;
  }, [target, items]);

  let state: SeekState | null = null;
  if (target !== undefined) {
    if (bubbleId !== null) state = 'found';
    else if (olderCursor === null) state = 'gone';
    else if (failed || pagesRead >= seekPageLimit) state = 'too-far';
    else state = 'seeking';
  }

  useEffect(() => {
    if (state !== 'seeking' || olderCursor === undefined || reading.current) return;
    reading.current = true;
    void readOlder(seekPageSize).then((read) => {
      reading.current = false;
      if (!read) setFailed(true);
      setPagesRead((count) => count + 1);
    });
  }, [state, olderCursor, readOlder]);

  useLayoutEffect(() => {
    if (state !== 'found' || bubbleId === null || shown.current === bubbleId) return;
    const bubble = listRef.current?.querySelector<HTMLElement>(`[data-message-id="${bubbleId}"]`);
    if (!bubble) return;
    shown.current = bubbleId;
    bubble.scrollIntoView({ block: 'center' });
    bubble.focus({ preventScroll: true });
  }, [state, bubbleId, listRef]);

  return { state, bubbleId };
}
