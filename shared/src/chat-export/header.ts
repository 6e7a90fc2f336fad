import { DIGIT, INVISIBLE, isInvisible, stripMarks, toAsciiDigits } from './marks.js';

/** The date parts of a header in the order they are written, with digits made ASCII. */
export type DateParts = readonly [string, string, string];

export interface Header {
  date: DateParts;
  /** The character between date parts: / . or - */
  separator: string;
  hour: number;
  minute: number;
  second: number;
  /** The day period when the clock is 12-hour, null for a 24-hour clock. */
  period: 'am' | 'pm' | null;
  /** Everything after the header's separator: `Author: text` or a system text. */
  rest: string;
}

const SPACE = '[ \\u00a0\\u202f]';
const MARKS = `${INVISIBLE}*`;
const NOT_DIGIT = '[^0-9\\u0660-\\u0669\\u06f0-\\u06f9\\[\\]';

// PROTOCOLS.md 5.2: optional marks and "[", three 1-4 digit groups split by / . or - (a space may
// follow the separator, a dot may end the date), ", " or a locale word (à, klo, um) or a day-period
// word placed before the time (上午, 오후), the time with : or ., an optional day period, then "] ",
// " - " or ": ". Marks may sit between any of these, as RTL locales put them there.
const headerPattern = new RegExp(
  `^${MARKS}(?:\\[${MARKS})?` +
    `(${DIGIT}{1,4})${MARKS}([./-])${MARKS}${SPACE}?(${DIGIT}{1,4})${MARKS}[./-]${MARKS}${SPACE}?(${DIGIT}{1,4})${MARKS}\\.?${MARKS}[,،]?${MARKS}${SPACE}*` +
    `(?:(${NOT_DIGIT}\\s]${NOT_DIGIT}]{0,11}?)${SPACE}*)?` +
    `(${DIGIT}{1,2})[:.](${DIGIT}{2})(?:[:.](${DIGIT}{2}))?` +
    `(?:${SPACE}*(\\p{L}[\\p{L}. \\u00a0\\u202f]{0,8}?\\.?))?` +
    `${MARKS}(?:\\]${SPACE}|${SPACE}[-–]${SPACE}|:${SPACE})`,
  'u',
);

/**
 * A header in the form most exports use (ASCII digits, 24-hour clock, `d/m/y, H:MM - ` or
 * `[d/m/y, H:MM:SS] `), read in place: the fields of one object are overwritten per line, and no
 * string is made, so a million headers cost no garbage. `dateKey` is equal for equal date parts
 * as written (values and digit counts), which lets callers reuse the last date's conversion.
 */
export interface CommonHeader {
  dateKey: number;
  /** Start and length of each date part in the line. */
  aStart: number;
  aLength: number;
  bStart: number;
  bLength: number;
  cStart: number;
  cLength: number;
  /** The char code between the first two date parts: / . or - */
  separator: number;
  hour: number;
  minute: number;
  second: number;
  /** Where the text after the header starts. */
  restStart: number;
}

export function newCommonHeader(): CommonHeader {
  return { dateKey: 0, aStart: 0, aLength: 0, bStart: 0, bLength: 0, cStart: 0, cLength: 0, separator: 0, hour: 0, minute: 0, second: 0, restStart: 0 };
}

/** Common-form outcomes: a valid header, a line of that form whose time is out of range (no header at all), or another form. */
export const COMMON_HEADER = 1;
export const NOT_A_HEADER = 0;
export const OTHER_FORM = -1;

const isDateSeparator = (c: number) => c === 0x2f || c === 0x2e || c === 0x2d;
const isDigitCode = (c: number) => c >= 48 && c <= 57;

/**
 * Reads `^\[?(\d{1,4})([./-])(\d{1,2})[./-](\d{2,4}),? (\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\] | - )`
 * by hand, several times faster than the same regular expression and without its capture
 * strings, at `from` in `line`. Returns COMMON_HEADER, NOT_A_HEADER (hour above 23, minute or
 * second above 59) or OTHER_FORM (anything else: the general pattern decides).
 */
export function readCommonHeader(line: string, h: CommonHeader, from = 0): number {
  // The line may lie inside a longer text: the character after it (a line break, or none at
  // the end) stops the reading like any other character that does not fit.
  let i = line.charCodeAt(from) === 0x5b ? from + 1 : from;
  // Date part 1: 1-4 digits, then the separator it names.
  h.aStart = i;
  let a = 0;
  let c = line.charCodeAt(i);
  while (isDigitCode(c) && i - h.aStart < 4) {
    a = a * 10 + c - 48;
    c = line.charCodeAt(++i);
  }
  h.aLength = i - h.aStart;
  if (h.aLength === 0 || !isDateSeparator(c)) return OTHER_FORM;
  h.separator = c;
  // Date part 2: 1-2 digits and a separator.
  h.bStart = ++i;
  let b = 0;
  c = line.charCodeAt(i);
  while (isDigitCode(c) && i - h.bStart < 2) {
    b = b * 10 + c - 48;
    c = line.charCodeAt(++i);
  }
  h.bLength = i - h.bStart;
  if (h.bLength === 0 || !isDateSeparator(c)) return OTHER_FORM;
  // Date part 3: 2-4 digits, an optional comma, one space.
  h.cStart = ++i;
  let d = 0;
  c = line.charCodeAt(i);
  while (isDigitCode(c) && i - h.cStart < 4) {
    d = d * 10 + c - 48;
    c = line.charCodeAt(++i);
  }
  h.cLength = i - h.cStart;
  if (h.cLength < 2) return OTHER_FORM;
  if (c === 0x2c) c = line.charCodeAt(++i);
  if (c !== 0x20) return OTHER_FORM;
  // Hour: 1-2 digits, then : or .
  const hourStart = ++i;
  let hour = 0;
  c = line.charCodeAt(i);
  while (isDigitCode(c) && i - hourStart < 2) {
    hour = hour * 10 + c - 48;
    c = line.charCodeAt(++i);
  }
  if (i === hourStart || (c !== 0x3a && c !== 0x2e)) return OTHER_FORM;
  // Minute: exactly 2 digits.
  const m1 = line.charCodeAt(i + 1);
  const m2 = line.charCodeAt(i + 2);
  if (!isDigitCode(m1) || !isDigitCode(m2)) return OTHER_FORM;
  const minute = (m1 - 48) * 10 + m2 - 48;
  i += 3;
  c = line.charCodeAt(i);
  let second = 0;
  if (c === 0x3a || c === 0x2e) {
    // Seconds given: exactly 2 digits, and the closing must follow them.
    const s1 = line.charCodeAt(i + 1);
    const s2 = line.charCodeAt(i + 2);
    if (!isDigitCode(s1) || !isDigitCode(s2)) return OTHER_FORM;
    second = (s1 - 48) * 10 + s2 - 48;
    i += 3;
    c = line.charCodeAt(i);
  }
  // "] " or " - "
  if (c === 0x5d && line.charCodeAt(i + 1) === 0x20) i += 2;
  else if (c === 0x20 && line.charCodeAt(i + 1) === 0x2d && line.charCodeAt(i + 2) === 0x20) i += 3;
  else return OTHER_FORM;
  if (hour > 23 || minute > 59 || second > 59) return NOT_A_HEADER;
  h.dateKey = dateKeyOf(a, h.aLength, b, h.bLength, d, h.cLength);
  h.hour = hour;
  h.minute = minute;
  h.second = second;
  h.restStart = i;
  return COMMON_HEADER;
}

/** One number for three date parts of at most 4 digits each, their digit counts included. */
export function dateKeyOf(a: number, aLength: number, b: number, bLength: number, c: number, cLength: number): number {
  return ((a * 10 + aLength) * 100_000 + (b * 10 + bLength)) * 100_000 + (c * 10 + cLength);
}

/** The date parts of a common header as strings, as the general reader gives them. */
export function commonDateParts(line: string, h: CommonHeader): DateParts {
  return [line.slice(h.aStart, h.aStart + h.aLength), line.slice(h.bStart, h.bStart + h.bLength), line.slice(h.cStart, h.cStart + h.cLength)];
}

const AM = new Set(['am', 'a', 'vorm', '上午', '午前', '오전', 'ص', 'πμ', 'sa', 'fm', 'ap', 'de', 'dop']);
const PM = new Set(['pm', 'p', 'nachm', '下午', '午後', '오후', 'م', 'μμ', 'ch', 'em', 'ip', 'du', 'odp']);

/** The day period a marker names, 'none' for a word that is not one (à, klo, um), or 'unknown'. */
function periodOf(word: string | undefined): 'am' | 'pm' | 'none' {
  if (word === undefined) return 'none';
  const key = stripMarks(word).toLowerCase().replace(/[.\s\u00a0\u202f]/g, '');
  if (AM.has(key)) return 'am';
  if (PM.has(key)) return 'pm';
  return 'none';
}

/**
 * Reads a message header at the start of `line`, or returns undefined when the line is not one
 * (a continuation line of a multi-line message). Cheap for the common continuation line: one
 * character test before any regex.
 */
export function readHeader(line: string): Header | undefined {
  const h = scratch;
  const form = readCommonHeader(line, h);
  if (form === COMMON_HEADER) {
    return { date: commonDateParts(line, h), separator: String.fromCharCode(h.separator), hour: h.hour, minute: h.minute, second: h.second, period: null, rest: line.slice(h.restStart) };
  }
  return form === NOT_A_HEADER ? undefined : readOtherHeader(line);
}

const scratch = newCommonHeader();

/** A header in any form but the common one (readCommonHeader answered OTHER_FORM), or undefined. */
export function readOtherHeader(line: string): Header | undefined {
  if (!mayStartHeader(line)) return undefined;
  const m = headerPattern.exec(line);
  if (!m) return undefined;
  const before = periodOf(m[5]);
  let after: 'am' | 'pm' | 'none' = 'none';
  if (m[9] !== undefined) {
    after = periodOf(m[9]);
    // A word after the time that is no day period means this is text, not a header.
    if (after === 'none') return undefined;
  }
  const period = after !== 'none' ? after : before !== 'none' ? before : null;
  const hour = Number(toAsciiDigits(m[6]!));
  const minute = Number(toAsciiDigits(m[7]!));
  const second = m[8] === undefined ? 0 : Number(toAsciiDigits(m[8]));
  // Japanese 12-hour clocks count 0-11 (午前0:30), others 1-12.
  if (minute > 59 || second > 59 || (period === null ? hour > 23 : hour > 12)) return undefined;
  return {
    date: [toAsciiDigits(m[1]!), toAsciiDigits(m[3]!), toAsciiDigits(m[4]!)],
    separator: m[2]!,
    hour: period === null ? hour : (hour % 12) + (period === 'pm' ? 12 : 0),
    minute,
    second,
    period,
    rest: line.slice(m[0].length),
  };
}

/** False when the line at `from` (up to `end`) cannot be a header: the cheap test for continuation lines. */
export function mayStartHeader(line: string, from = 0, end = line.length): boolean {
  for (let i = from; i < end && i < from + 8; i += 1) {
    const c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
    if ((c >= 0x660 && c <= 0x669) || (c >= 0x6f0 && c <= 0x6f9)) return true;
    // "[", BOM and bidi marks may come first; anything else means a continuation line.
    if (c !== 0x5b && !isInvisible(c)) return false;
  }
  return false;
}
