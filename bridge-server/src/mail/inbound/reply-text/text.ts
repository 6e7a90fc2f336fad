import {
  endsLikeAttribution,
  headerRoleOf,
  isForwardMarkerLine,
  isOriginalMessageLine,
  MAX_MARKER_LINE,
  startsLikeAttribution,
  type HeaderRole,
} from './markers.js';

/**
 * The plain-text half of reply-text stripping: finds where the quoted history starts and returns
 * the lines the person wrote above it (signatures are signature.ts's job).
 *
 * Scanning top-down, the first of these wins:
 * - a forward header ("---------- Forwarded message ---------", "Begin forwarded message:"): the
 *   text is a forward, and the note and the forwarded content are both kept;
 * - "-----Original Message-----" and its translations: cut there;
 * - an Outlook header block (From/Sent/To/Subject in any of the label languages, optionally after
 *   a line of underscores): cut there, or keep it as forwarded content when the subject says the
 *   message is a forward;
 * - a `>` line: the quote starts there, and its "On … wrote:" attribution just above it goes too.
 *   If the person wrote lines *between or after* quoted lines (an inline or bottom-posted reply),
 *   their lines are kept and the `>` lines dropped, each dropped run leaving a paragraph break.
 *   Dropping the quotes loses what each answer refers to; the alternative, sending the client
 *   their own words back, reads worse on WhatsApp.
 */

/** How the text ends after the cut: plain reply lines, or a note followed by forwarded content. */
export interface CutText {
  /** The lines the person wrote (still with signature and footers). */
  reply: string[];
  /** Forwarded content kept verbatim after the note, if the message is a forward. */
  forwarded?: string[];
}

export interface CutOptions {
  /** The message's subject says it is a forward ("FW:", "TR:", "WG:" …). */
  forward?: boolean;
}

// An Outlook header block spans at most this many lines (a long To: list may wrap).
const HEADER_BLOCK_WINDOW = 10;

/** Splits normalized text (LF only) at the start of the quoted history; see the file comment. */
export function cutQuotedHistory(lines: readonly string[], options: CutOptions = {}): CutText {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (isQuoted(lines[i]!)) return cutAtQuote(lines, i);
    if (line.length > MAX_MARKER_LINE) continue;
    if (isForwardMarkerLine(line)) return { reply: lines.slice(0, i), forwarded: lines.slice(i) };
    if (isHardMarkerAt(lines, i)) {
      if (options.forward) return { reply: lines.slice(0, i), forwarded: lines.slice(i) };
      return { reply: dropTrailingAttribution(lines.slice(0, i)) };
    }
  }
  return { reply: dropTrailingAttribution([...lines]) };
}

/** A line of quoted history (`>`-prefixed, as every plain-text client quotes). */
export function isQuoted(line: string): boolean {
  return /^ {0,3}>/u.test(line);
}

/**
 * Whether older history starts at line `i` without `>` quoting: "-----Original Message-----", a
 * header block, or a line of underscores directly above a header block.
 */
function isHardMarkerAt(lines: readonly string[], i: number): boolean {
  const line = lines[i]!.trim();
  if (isOriginalMessageLine(line)) return true;
  if (/^_{20,}$/u.test(line)) {
    // Outlook on the web and mobile put 32 underscores above the block; one blank line may follow.
    const next = lines[i + 1]?.trim() === '' ? i + 2 : i + 1;
    return next < lines.length && headerBlockLength(lines, next) > 0;
  }
  return headerBlockLength(lines, i) > 0;
}

/**
 * The length of an Outlook-style header block starting at line `i`, or 0. It must start with a
 * From label and name at least two more of Sent/Date, To, Cc and Subject before a blank line;
 * a single "From: …" line in someone's text is not a block.
 */
export function headerBlockLength(lines: readonly string[], i: number): number {
  if (headerRoleOf(lines[i]!.trim()) !== 'from') return 0;
  const roles = new Set<HeaderRole>(['from']);
  let last: HeaderRole = 'from';
  let end = i + 1;
  for (; end < Math.min(lines.length, i + HEADER_BLOCK_WINDOW); end++) {
    const line = lines[end]!.trim();
    if (line === '') break;
    const role = headerRoleOf(line);
    if (role === 'from') break;
    if (role !== undefined) {
      roles.add(role);
      last = role;
    } else if (last !== 'to' && last !== 'cc' && last !== 'from') {
      // Only address lists wrap onto continuation lines.
      break;
    }
  }
  return roles.size >= 3 ? end - i : 0;
}

/**
 * The quote starts at line `q`. Drops its attribution, and keeps any lines the person wrote
 * between or after quoted lines (inline or bottom-posted answers).
 */
function cutAtQuote(lines: readonly string[], q: number): CutText {
  const head = dropTrailingAttribution(lines.slice(0, q), true);
  const answers: string[] = [];
  let inline = false;
  for (let j = q; j < lines.length; j++) {
    const line = lines[j]!;
    const trimmed = line.trim();
    if (isQuoted(line) || trimmed === '') {
      if (answers.length > 0 && answers[answers.length - 1] !== '') answers.push('');
      continue;
    }
    if (trimmed.length <= MAX_MARKER_LINE && isHardMarkerAt(lines, j)) break;
    const attribution = attributionLengthAt(lines, j);
    if (attribution > 0) {
      j += attribution - 1;
      continue;
    }
    inline = true;
    answers.push(line);
  }
  return { reply: inline ? [...head, '', ...answers] : head };
}

/**
 * If line `j` starts an attribution (up to three lines) that quoted lines or the end of the text
 * follow, its length in lines; else 0. Inline replies quote more than once.
 */
function attributionLengthAt(lines: readonly string[], j: number): number {
  if (!startsLikeAttribution(lines[j]!.trim())) return 0;
  for (let k = 1; k <= 3 && j + k <= lines.length; k++) {
    const joined = joinTrimmed(lines.slice(j, j + k));
    if (joined === undefined) return 0;
    if (endsLikeAttribution(joined)) {
      let next = j + k;
      while (next < lines.length && lines[next]!.trim() === '') next++;
      return next === lines.length || isQuoted(lines[next]!) ? k : 0;
    }
  }
  return 0;
}

/**
 * Removes an attribution ("On … wrote:", possibly wrapped over up to three lines) from the end of
 * the lines, with the blank lines around it. Directly above a quote, a last line ending in
 * "wrote:" goes even without an opening word ("Maria Lopez <maria@example.com> wrote:").
 */
export function dropTrailingAttribution(lines: string[], aboveQuote = false): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  for (let k = 1; k <= 3 && end - k >= 0; k++) {
    const part = lines.slice(end - k, end);
    const joined = joinTrimmed(part);
    if (joined === undefined) break;
    if (endsLikeAttribution(joined) && startsLikeAttribution(part[0]!.trim())) return lines.slice(0, end - k);
  }
  const last = joinTrimmed(lines.slice(end - 1, end));
  if (aboveQuote && last !== undefined && endsLikeAttribution(last)) return lines.slice(0, end - 1);
  return lines.slice(0, end);
}

/** Joins a few lines of one paragraph with spaces; undefined if one is blank or too long. */
function joinTrimmed(lines: readonly string[]): string | undefined {
  const trimmed = lines.map((l) => l.trim());
  if (trimmed.some((l) => l === '' || l.length > MAX_MARKER_LINE)) return undefined;
  return trimmed.join(' ');
}
