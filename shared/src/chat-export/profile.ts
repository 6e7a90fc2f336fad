import { DateOrderDetector, type DateOrder } from './date-order.js';
import { ChatExportError } from './errors.js';
import { readHeader } from './header.js';
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
  private readonly lines = new LineSplitter((line, n) => this.onLine(line, n));
  private headers = 0;

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

  private onLine(line: string, n: number): void {
    const header = readHeader(line);
    if (!header) {
      if (this.headers === 0 && n >= HEADER_WITHIN_LINES) throw notAnExport();
      return;
    }
    this.headers += 1;
    this.detector.add(header.date, header.separator);
    const rest = header.rest;
    const colon = rest.indexOf(': ');
    if (colon <= 0) return;
    const prefix = rest.slice(0, colon);
    let stats = this.prefixes.get(prefix);
    if (!stats) {
      if (this.prefixes.size >= MAX_TRACKED_AUTHORS || prefix.length > 200) return;
      stats = { count: 0, next: null, varied: false };
      this.prefixes.set(prefix, stats);
    }
    stats.count += 1;
    if (stats.varied) return;
    const after = rest.indexOf(': ', colon + 2);
    if (after === -1) {
      stats.varied = true;
      return;
    }
    const next = rest.slice(colon + 2, after);
    if (stats.next === null) stats.next = next;
    else if (stats.next !== next) stats.varied = true;
  }
}

export function notAnExport(): ChatExportError {
  return new ChatExportError('not_an_export', 'not a WhatsApp chat export: no "date, time - name: text" or "[date, time] name: text" line found');
}
