import { DateOrderDetector, type DateOrder } from './date-order.js';
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
    const colonAuthors = new Map<string, string>();
    for (const [prefix, stats] of this.prefixes) {
      if (!stats.varied && stats.count >= 2 && stats.next !== null) colonAuthors.set(prefix, `${prefix}: ${stats.next}`);
    }
    return { dateOrder: this.detector.result(), colonAuthors, headers: this.headers };
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
        if (this.headers === 0 && n >= HEADER_WITHIN_LINES) throw notAnExport();
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

export function notAnExport(): ChatExportError {
  return new ChatExportError('not_an_export', 'not a WhatsApp chat export: no "date, time - name: text" or "[date, time] name: text" line found');
}
