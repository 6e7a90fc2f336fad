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

// Letters of the scripts written right to left (Unicode's strong R and AL bidi classes).
const rightToLeftLetter = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}]/u;

/**
 * A name in a right-to-left script, closed with a LEFT-TO-RIGHT MARK (U+200E) so that what follows
 * it on a left-to-right line keeps its order: without it, "(+971 50 111 2233)" after an Arabic
 * name is drawn as "(2233 111 50 971+)" in every mail client (the digits join the Arabic run,
 * Unicode bidi rules W2 and N1). A mark only sets a direction; unlike the overrides and isolates
 * toHeaderText removes, it cannot make text read as something else.
 */
export function closeRightToLeft(text: string): string {
  return rightToLeftLetter.test(text) ? `${text}\u200E` : text;
}
