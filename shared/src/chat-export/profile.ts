import { DateOrderDetector, type DateOrder, type DateOrderEvidence } from './date-order.js';
import { ChatExportError } from './errors.js';
import { COMMON_HEADER, commonDateParts, mayStartHeader, newCommonHeader, NOT_A_HEADER, readCommonHeader, readOtherHeader } from './header.js';
import { LineSplitter } from './lines.js';

/** What a first pass over the whole file learns, for the second pass that emits messages. */
export interface ExportProfile {
  dateOrder: DateOrder;
  /**
   * Author names that contain ": " (a contact saved as "Team: Legal"), keyed by their part before
   * the first ": ". Splitting on the first ": " alone would cut such names in two.
   */
  colonAuthors: Map<string, string>;
  headers: number;
}

/** How many lines may pass before the first header, and bytes a header-less start may have. */
const HEADER_WITHIN_LINES = 200;
const MAX_TRACKED_AUTHORS = 10_000;

/**
 * What a first pass over one part of a file learns (plain data: parts are read on several
 * threads). `mergeProfiles` joins the parts of a file, in order, into its profile.
 */
export interface PartialProfile {
  dates: DateOrderEvidence;
  prefixes: PrefixStats[];
  headers: number;
  lines: number;
}

interface PrefixStats {
  prefix: string;
  count: number;
  /** The text after the prefix up to the next ": ", while it has always been the same. */
  next: string | null;
  varied: boolean;
}

/**
 * First pass: reads every header (not the bodies) and keeps O(authors) state: the date-order
 * evidence and, per text before the first ": ", whether what follows it varies. A real author is
 * followed by many different texts; "Team" in "Team: Legal: …" is always followed by "Legal".
 */
export class ExportProfiler {
  /**
   * `later`: the text is a part of a file that does not start it (a line start inside it), so a
   * first header far down is no sign of a non-export: the part before it had the headers.
   */
  constructor(private readonly options: { later?: boolean } = {}) {}

  private readonly detector = new DateOrderDetector();
  private readonly prefixes = new Map<string, PrefixStats>();
  private readonly lines = new LineSplitter((text, from, end, n) => this.onLine(text, from, end, n));
  private headers = 0;
  private readonly common = newCommonHeader();
  private lastKey = -1;
  /** The prefixes of the last few headers, checked before the map. */
  private readonly recent: PrefixStats[] = [];

  push(text: string): void {
    this.lines.push(text);
  }

  end(): ExportProfile {
    this.lines.end();
    if (this.headers === 0) throw notAnExport();
    return { dateOrder: this.detector.result(), colonAuthors: colonAuthorsOf(this.prefixes), headers: this.headers };
  }

  /** Ends the input and returns what this part holds, for `mergeProfiles`. */
  endPartial(): PartialProfile {
    this.lines.end();
    return { dates: this.detector.evidence(), prefixes: [...this.prefixes.values()], headers: this.headers, lines: this.lines.line };
  }

  private onLine(text: string, from: number, end: number, n: number): void {
    const h = this.common;
    const form = readCommonHeader(text, h, from);
    let rest: string;
    let restStart: number;
    if (form === COMMON_HEADER) {
      // The date order only needs dates that differ from the one before (DateOrderDetector.repeat).
      if (h.dateKey === this.lastKey) this.detector.repeat(h.aLength === 4, h.separator === 0x2e);
      else {
        this.lastKey = h.dateKey;
        this.detector.add(commonDateParts(text, h), String.fromCharCode(h.separator));
      }
      // The header's text is read where it lies: most lines need no string of their own here.
      rest = text;
      restStart = h.restStart;
    } else {
      const header = form === NOT_A_HEADER || !mayStartHeader(text, from, end) ? undefined : readOtherHeader(text.slice(from, end));
      if (!header) {
        if (this.headers === 0 && n >= HEADER_WITHIN_LINES && !this.options.later) throw notAnExport();
        return;
      }
      this.lastKey = -1;
      this.detector.add(header.date, header.separator);
      rest = header.rest;
      restStart = 0;
      end = rest.length;
    }
    this.headers += 1;
    const found = rest.indexOf(': ', restStart);
    if (found === -1 || found >= end - 1) return;
    const colon = found - restStart;
    if (colon <= 0) return;
    // Most headers repeat one of the last authors: compare in place before making the prefix.
    let stats: PrefixStats | undefined;
    const recent = this.recent;
    for (let i = 0; i < recent.length; i += 1) {
      const known = recent[i]!;
      if (known.prefix.length === colon && rest.startsWith(known.prefix, restStart)) {
        stats = known;
        break;
      }
    }
    if (!stats) {
      const prefix = rest.slice(restStart, found);
      stats = this.prefixes.get(prefix);
      if (!stats) {
        if (this.prefixes.size >= MAX_TRACKED_AUTHORS || prefix.length > 200) return;
        stats = { prefix, count: 0, next: null, varied: false };
        this.prefixes.set(prefix, stats);
      }
      if (recent.length >= 8) recent.shift();
      recent.push(stats);
    }
    stats.count += 1;
    if (stats.varied) return;
    const after = rest.indexOf(': ', found + 2);
    if (after === -1 || after >= end - 1) {
      stats.varied = true;
      return;
    }
    const next = rest.slice(found + 2, after);
    if (stats.next === null) stats.next = next;
    else if (stats.next !== next) stats.varied = true;
  }
}

/**
 * The profile of a whole file from the partial profiles of its consecutive parts, equal to the one
 * a single ExportProfiler would give; undefined where that cannot be promised (the first part has
 * no header, so whether the file is an export depends on where the first one is, or the parts
 * name more author prefixes than one profiler tracks): read the file in one pass then.
 */
export function mergeProfiles(parts: readonly PartialProfile[]): ExportProfile | undefined {
  if (parts.length === 0 || parts[0]!.headers === 0) return undefined;
  const detector = new DateOrderDetector();
  const prefixes = new Map<string, PrefixStats>();
  let headers = 0;
  for (const part of parts) {
    detector.append(part.dates);
    headers += part.headers;
    for (const later of part.prefixes) {
      const known = prefixes.get(later.prefix);
      if (!known) {
        prefixes.set(later.prefix, { ...later });
        continue;
      }
      known.count += later.count;
      // Still one continuation only if neither part saw another and both saw the same.
      known.varied ||= later.varied || (known.next !== null && later.next !== null && known.next !== later.next);
      known.next ??= later.next;
    }
  }
  if (prefixes.size >= MAX_TRACKED_AUTHORS) return undefined;
  return { dateOrder: detector.result(), colonAuthors: colonAuthorsOf(prefixes), headers };
}

function colonAuthorsOf(prefixes: Map<string, PrefixStats>): Map<string, string> {
  const colonAuthors = new Map<string, string>();
  for (const [prefix, stats] of prefixes) {
    if (!stats.varied && stats.count >= 2 && stats.next !== null) colonAuthors.set(prefix, `${prefix}: ${stats.next}`);
  }
  return colonAuthors;
}

export function notAnExport(): ChatExportError {
  return new ChatExportError('not_an_export', 'not a WhatsApp chat export: no "date, time - name: text" or "[date, time] name: text" line found');
}
