/**
 * Text from WhatsApp (profile names, ids) that ends up in a mail header. Cleaning it here, in
 * core, means a hostile name can never carry a line break into the composer; the composer's own
 * check in mail/compose/headers.ts is the second line of defence, not the first.
 */

// C0/C1 controls (CR, LF, NUL, NEL ...), the Unicode line and paragraph separators, and the
// bidirectional overrides/isolates that can make a display name read differently than it is
// (the "Trojan Source" trick, CVE-2021-42574). Each becomes a space, so words stay apart.
const unsafeCharacters = /[\p{Cc}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]/gu;

/** One line of printable text: unsafe characters replaced by a space, whitespace collapsed, trimmed. */
export function toHeaderText(value: string): string {
  return value.replace(unsafeCharacters, ' ').replace(/\s+/gu, ' ').trim();
}

/**
 * Cuts `value` to at most `max` UTF-16 code units (what MAPI counts), never in the middle of a
 * surrogate pair, and marks the cut with an ellipsis.
 */
export function truncateText(value: string, max: number): string {
  if (value.length <= max) return value;
  if (max <= 0) return '';
  let out = '';
  for (const codePoint of value) {
    if (out.length + codePoint.length > max - 1) break;
    out += codePoint;
  }
  return `${out.trimEnd()}…`;
}
