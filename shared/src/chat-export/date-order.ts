import type { DateParts } from './header.js';

/** Which written date part is the day, month and year: dd/mm/yy, mm/dd/yy or yyyy-mm-dd. */
export type DateOrder = 'dmy' | 'mdy' | 'ymd';
export const dateOrders: readonly DateOrder[] = ['dmy', 'mdy', 'ymd'];

/** The two parts that are not the year, as numbers, and the year. */
interface DayMonth {
  first: number;
  second: number;
  year: number;
}

/** What a DateOrderDetector has learnt, as plain data. */
export interface DateOrderEvidence {
  yearFirst: number;
  dotted: number;
  firstOver12: boolean;
  secondOver12: boolean;
  firstDecreases: boolean;
  secondDecreases: boolean;
  firstChange: number;
  secondChange: number;
  /** The first and the last date added. */
  earliest: DayMonth | undefined;
  previous: DayMonth | undefined;
  seen: number;
}

/** The two parts that are not the year, as numbers, for a date with its year part known. */
function dayMonthParts(parts: DateParts): DayMonth {
  const [a, b, c] = parts;
  if (a.length === 4) return { first: Number(b), second: Number(c), year: Number(a) };
  if (b.length === 4) return { first: Number(a), second: Number(c), year: Number(b) };
  return { first: Number(a), second: Number(b), year: Number(c) };
}

/**
 * Infers the date order from every header date of a file, in O(1) memory, the way
 * whatsapp-chat-parser reasons (PROTOCOLS.md 5.3): a part above 12 is the day; else a part that
 * goes down between consecutive dates of one year is the day; else the part that changes more
 * often is the day. A 4-digit first part means year first. Dotted dates (31.01.24) are day first
 * in every locale that writes them, which settles files where nothing else does.
 */
export class DateOrderDetector {
  private s: DateOrderEvidence = {
    yearFirst: 0,
    dotted: 0,
    firstOver12: false,
    secondOver12: false,
    firstDecreases: false,
    secondDecreases: false,
    firstChange: 0,
    secondChange: 0,
    earliest: undefined,
    previous: undefined,
    seen: 0,
  };

  add(parts: DateParts, separator: string): void {
    const s = this.s;
    s.seen += 1;
    if (parts[0].length === 4) s.yearFirst += 1;
    if (separator === '.') s.dotted += 1;
    const current = dayMonthParts(parts);
    if (current.first > 12) s.firstOver12 = true;
    if (current.second > 12) s.secondOver12 = true;
    if (s.previous) this.step(s.previous, current);
    else s.earliest ??= current;
    s.previous = current;
  }

  /** What consecutive dates tell: which part went down, and by how much each changed. */
  private step(prev: DayMonth, current: DayMonth): void {
    const s = this.s;
    if (prev.first === current.first && prev.second === current.second && prev.year === current.year) return;
    if (prev.year === current.year) {
      if (current.first < prev.first) s.firstDecreases = true;
      if (current.second < prev.second) s.secondDecreases = true;
    }
    s.firstChange += Math.abs(current.first - prev.first);
    s.secondChange += Math.abs(current.second - prev.second);
  }

  /** The evidence so far, as plain data (it crosses threads). */
  evidence(): DateOrderEvidence {
    return { ...this.s };
  }

  /**
   * Adds the evidence of the dates that follow the ones added here, gathered by another
   * detector: the result is what one detector fed every date in order would hold.
   */
  append(later: DateOrderEvidence): void {
    const s = this.s;
    s.seen += later.seen;
    s.yearFirst += later.yearFirst;
    s.dotted += later.dotted;
    s.firstOver12 ||= later.firstOver12;
    s.secondOver12 ||= later.secondOver12;
    s.firstDecreases ||= later.firstDecreases;
    s.secondDecreases ||= later.secondDecreases;
    s.firstChange += later.firstChange;
    s.secondChange += later.secondChange;
    // The one pair no detector saw: the last date here and the first one there.
    if (s.previous && later.earliest) this.step(s.previous, later.earliest);
    s.earliest ??= later.earliest;
    s.previous = later.previous ?? s.previous;
  }

  /**
   * The same as `add` for a date equal to the one added last, written the same way: only the
   * counts move, as nothing compares a date with itself.
   */
  repeat(yearFirst: boolean, dotted: boolean): void {
    const s = this.s;
    s.seen += 1;
    if (yearFirst) s.yearFirst += 1;
    if (dotted) s.dotted += 1;
  }

  /** True once more dates cannot change the answer (a part above 12 or year-first dates). */
  get settled(): boolean {
    return this.s.yearFirst > 0 || this.s.firstOver12 !== this.s.secondOver12;
  }

  get count(): number {
    return this.s.seen;
  }

  result(): DateOrder {
    const s = this.s;
    if (s.yearFirst > s.seen / 2) return 'ymd';
    if (s.firstOver12 && !s.secondOver12) return 'dmy';
    if (s.secondOver12 && !s.firstOver12) return 'mdy';
    if (s.firstDecreases && !s.secondDecreases) return 'dmy';
    if (s.secondDecreases && !s.firstDecreases) return 'mdy';
    if (s.dotted > s.seen / 2) return 'dmy';
    if (s.firstChange > s.secondChange) return 'dmy';
    if (s.secondChange > s.firstChange) return 'mdy';
    return 'dmy';
  }
}

const daysIn = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The calendar date of header date parts in `order`, as YYYY-MM-DD, or undefined when the parts
 * are no valid date in that order. A 4-digit part is the year wherever it sits; two-digit years
 * are 2000-2099 (WhatsApp appeared in 2009).
 */
export function toCalendarDate(parts: DateParts, order: DateOrder): string | undefined {
  let day: number;
  let month: number;
  let yearText: string;
  const four = parts.findIndex((p) => p.length === 4);
  if (four === 0 || (four === -1 && order === 'ymd')) {
    yearText = parts[0];
    const a = Number(parts[1]);
    const b = Number(parts[2]);
    [month, day] = order === 'dmy' ? [b, a] : [a, b];
  } else {
    const rest = four === 1 ? [parts[0], parts[2]] : [parts[0], parts[1]];
    yearText = four === 1 ? parts[1] : parts[2];
    const a = Number(rest[0]);
    const b = Number(rest[1]);
    [day, month] = order === 'mdy' ? [b, a] : [a, b];
  }
  if (yearText.length === 3) return undefined;
  const year = yearText.length === 4 ? Number(yearText) : 2000 + Number(yearText);
  if (month < 1 || month > 12 || day < 1 || day > daysIn[month - 1]!) return undefined;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return undefined;
  return `${year}-${pad(month)}-${pad(day)}`;
}

export const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));
