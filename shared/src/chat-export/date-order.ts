import type { DateParts } from './header.js';

/** Which written date part is the day, month and year: dd/mm/yy, mm/dd/yy or yyyy-mm-dd. */
export type DateOrder = 'dmy' | 'mdy' | 'ymd';
export const dateOrders: readonly DateOrder[] = ['dmy', 'mdy', 'ymd'];

/** The two parts that are not the year, as numbers, for a date with its year part known. */
function dayMonthParts(parts: DateParts): { first: number; second: number; year: number } {
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
  private yearFirst = 0;
  private dotted = 0;
  private firstOver12 = false;
  private secondOver12 = false;
  private firstDecreases = false;
  private secondDecreases = false;
  private firstChange = 0;
  private secondChange = 0;
  private previous: { first: number; second: number; year: number } | undefined;
  private seen = 0;

  add(parts: DateParts, separator: string): void {
    this.seen += 1;
    if (parts[0].length === 4) this.yearFirst += 1;
    if (separator === '.') this.dotted += 1;
    const current = dayMonthParts(parts);
    if (current.first > 12) this.firstOver12 = true;
    if (current.second > 12) this.secondOver12 = true;
    const prev = this.previous;
    if (prev && (prev.first !== current.first || prev.second !== current.second || prev.year !== current.year)) {
      if (prev.year === current.year) {
        if (current.first < prev.first) this.firstDecreases = true;
        if (current.second < prev.second) this.secondDecreases = true;
      }
      this.firstChange += Math.abs(current.first - prev.first);
      this.secondChange += Math.abs(current.second - prev.second);
    }
    this.previous = current;
  }

  /**
   * The same as `add` for a date equal to the one added last, written the same way: only the
   * counts move, as nothing compares a date with itself.
   */
  repeat(yearFirst: boolean, dotted: boolean): void {
    this.seen += 1;
    if (yearFirst) this.yearFirst += 1;
    if (dotted) this.dotted += 1;
  }

  /** True once more dates cannot change the answer (a part above 12 or year-first dates). */
  get settled(): boolean {
    return this.yearFirst > 0 || this.firstOver12 !== this.secondOver12;
  }

  get count(): number {
    return this.seen;
  }

  result(): DateOrder {
    if (this.yearFirst > this.seen / 2) return 'ymd';
    if (this.firstOver12 && !this.secondOver12) return 'dmy';
    if (this.secondOver12 && !this.firstOver12) return 'mdy';
    if (this.firstDecreases && !this.secondDecreases) return 'dmy';
    if (this.secondDecreases && !this.firstDecreases) return 'mdy';
    if (this.dotted > this.seen / 2) return 'dmy';
    if (this.firstChange > this.secondChange) return 'dmy';
    if (this.secondChange > this.firstChange) return 'mdy';
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
