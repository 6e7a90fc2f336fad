/** Times as a solicitor reads them: today's as 14:05, older ones with the date. */
export function formatTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function formatBytes(size: number | null): string {
  if (size === null) return '';
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A name or title someone typed, for places that take plain text only (a tooltip, a native
 * option): wrapped in Unicode's first-strong isolate, it runs in its own direction, an Arabic or
 * Hebrew one right to left, as `dir="auto"` makes it run in markup.
 */
export function isolate(text: string): string {
  return `\u2068${text}\u2069`;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
