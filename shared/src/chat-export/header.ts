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

// The 24-hour forms most exports use, ASCII only: tried first because this simple pattern runs
// several times faster than the general one; anything it does not take goes to the general one.
const commonPattern = /^\[?(\d{1,4})([./-])(\d{1,2})[./-](\d{2,4}),? (\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\] | - )/;

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
  if (!mayStartHeader(line)) return undefined;
  const fast = commonPattern.exec(line);
  if (fast) {
    const hour = Number(fast[5]);
    const minute = Number(fast[6]);
    const second = fast[7] === undefined ? 0 : Number(fast[7]);
    if (hour > 23 || minute > 59 || second > 59) return undefined;
    return { date: [fast[1]!, fast[3]!, fast[4]!], separator: fast[2]!, hour, minute, second, period: null, rest: line.slice(fast[0].length) };
  }
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

function mayStartHeader(line: string): boolean {
  for (let i = 0; i < line.length && i < 8; i += 1) {
    const c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
    if ((c >= 0x660 && c <= 0x669) || (c >= 0x6f0 && c <= 0x6f9)) return true;
    // "[", BOM and bidi marks may come first; anything else means a continuation line.
    if (c !== 0x5b && !isInvisible(c)) return false;
  }
  return false;
}
