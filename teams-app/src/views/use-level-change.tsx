import { mergeClasses } from '@fluentui/react-components';
import { useEffect, useRef, useState, type ReactNode, type RefObject } from 'react';
import { listStyles } from '@wa-bridge/shared/ui/list-styles';

/** How long to wait for the new level's controls and rows once it is asked for. */
const waitMs = 3000;

/**
 * For views that show one level at a time (matters, a matter, a conversation): moving to another
 * level replaces the control that had the focus, and without help the focus falls to the page and
 * a keyboard user starts again from the top, while a screen reader says nothing of where they are.
 * When `level` changes (not on the first show), the focus goes to the new level's first control
 * once it is there, and a polite announcement names the level and, once loaded, how many rows its
 * first list holds ("Matter KHA-2026-0007: Khan: lease. 2 conversations."). The level names itself
 * with its first `h2`, or else its first labelled region. Put `container` on an element around the
 * level and render `announcement` outside the part that changes.
 */
export function useLevelChange(level: unknown): { container: RefObject<HTMLDivElement | null>; announcement: ReactNode } {
  const list = listStyles();
  const container = useRef<HTMLDivElement>(null);
  const [said, setSaid] = useState('');
  const first = useRef(true);

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    setSaid('');
    const root = container.current;
    if (!root) return;
    let focused = false;
    // Looked at once now and again whenever the level's part of the page changes (it loads,
    // its spinner goes, its rows come), until it is described or the wait is over.
    const look = (): boolean => {
      if (!focused) {
        const control = root.querySelector<HTMLElement>('button:not([disabled]), [href], input, select, textarea');
        if (control) {
          if (!root.contains(document.activeElement)) control.focus();
          focused = true;
        }
      }
      const described = focused ? describeLevel(root) : null;
      if (described) setSaid(described);
      return described !== null;
    };
    if (look()) return;
    const observer = new MutationObserver(() => {
      if (look()) stop();
    });
    const timer = setTimeout(() => stop(), waitMs);
    const stop = (): void => {
      observer.disconnect();
      clearTimeout(timer);
    };
    observer.observe(root, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['disabled', 'aria-label', 'href'] });
    return stop;
  }, [level]);

  const announcement = (
    <span className={mergeClasses(list.spoken, 'level-announcement')} aria-live="polite">
      {said}
    </span>
  );
  return { container, announcement };
}

/** "Name. N rows." for a level that has loaded (no spinner left), or null while it has not. */
function describeLevel(root: HTMLElement): string | null {
  if (root.querySelector('.fui-Spinner')) return null;
  const name = root.querySelector('h2')?.textContent?.trim() || root.querySelector('section[aria-label]')?.getAttribute('aria-label')?.trim();
  if (!name) return null;
  const rows = root.querySelector<HTMLElement>('ul[aria-label]');
  if (!rows) return `${name}.`;
  const count = rows.querySelectorAll(':scope > li').length;
  const label = rows.getAttribute('aria-label')!;
  // "Conversations without a matter: 2.", not the name twice.
  if (label.toLowerCase() === name.toLowerCase()) return `${name}: ${count === 0 ? 'none' : count}.`;
  const what = label.replace(/^./, (letter) => letter.toLowerCase());
  return `${name}. ${count === 0 ? `No ${what}` : `${count} ${count === 1 ? singular(what) : what}`}.`;
}

/** "conversations without a matter" → "conversation without a matter"; "search results" → "search result". */
function singular(what: string): string {
  return what.replace(/^(search result|\S+?)s\b/, '$1');
}
