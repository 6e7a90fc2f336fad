import { attachmentFileName } from './attachments.js';
import { pad, toCalendarDate, type DateOrder } from './date-order.js';
import { ChatExportError } from './errors.js';
import { COMMON_HEADER, commonDateParts, dateKeyOf, mayStartHeader, newCommonHeader, NOT_A_HEADER, readCommonHeader, readHeader, readOtherHeader, type DateParts } from './header.js';
import { LineSplitter, MAX_LINE_CHARS } from './lines.js';
import { stripLeadingMarks, stripMarks } from './marks.js';
import { ExportProfiler } from './profile.js';
import { isEncryptionNotice, isSystemLineWithColon, isSystemText, mayBeSystemLineWithColon } from './system-texts.js';

/** One message of an export, in the fixed shape `wa-bridge parse-export` prints. */
export interface ChatMessage {
  /** Wall time as written in the export, no zone: YYYY-MM-DDTHH:MM:SS. */
  date: string;
  /** null for WhatsApp's own system messages. */
  author: string | null;
  message: string;
  attachment?: { fileName: string };
}

/** A message with where it starts in the file (1-based line), for ids that survive a re-import. */
export interface ParsedMessage extends ChatMessage {
  line: number;
}

export interface ParserOptions {
  dateOrder: DateOrder;
  colonAuthors?: ReadonlyMap<string, string>;
  /** Lines of the file before the text this parser is given (it starts at a later line). */
  linesBefore?: number;
}

/**
 * Second pass: text chunks in, complete messages out. A message is complete when the next header
 * (or the end) arrives, so at most one message is held; memory does not grow with the file.
 * Feed it with `push`, collect with the `out` array, finish with `end`.
 */
export class ChatExportParser {
  private readonly lines: LineSplitter;
  private out: ParsedMessage[] = [];
  private readonly common = newCommonHeader();
  private otherParts: DateParts | undefined;
  private lastKey = -1;
  private lastDay: string | undefined;
  private readonly names: string[] = [];
  // The message being read, as plain fields: one object per line would be garbage at a million lines.
  private pending = false;
  private pDate = '';
  private pDay = '';
  private pAuthor: string | null = null;
  private pFirst = '';
  private pMore: string[] | null = null;
  private pSize = 0;
  private pLine = 0;

  constructor(private readonly options: ParserOptions) {
    this.lines = new LineSplitter((text, from, end, n) => this.onLine(text, from, end, n));
    this.lines.line = options.linesBefore ?? 0;
  }

  /** Lines read so far, those before the start included. */
  get linesRead(): number {
    return this.lines.line;
  }

  /** Parses a chunk and returns the messages it completed. */
  push(text: string): ParsedMessage[] {
    this.lines.push(text);
    return this.take();
  }

  /** Ends the input and returns the last messages. */
  end(): ParsedMessage[] {
    this.lines.end();
    this.flush();
    return this.take();
  }

  private take(): ParsedMessage[] {
    const done = this.out;
    if (done.length > 0) this.out = [];
    return done;
  }

  private onLine(text: string, from: number, end: number, n: number): void {
    const h = this.common;
    const form = readCommonHeader(text, h, from);
    if (form === COMMON_HEADER) {
      // A common header starts with "[" or a digit, so no mark stands before it.
      const shape = text.charCodeAt(h.restStart - 2) === 0x2d ? DASHED : 0;
      if (this.start(h.dateKey, text, h.hour, h.minute, h.second, text, h.restStart, end, n, shape)) return;
    } else if (form !== NOT_A_HEADER && mayStartHeader(text, from, end)) {
      const line = text.slice(from, end);
      const other = readOtherHeader(line);
      if (other) {
        const [a, b, c] = other.date;
        this.otherParts = other.date;
        const closing = line.length - other.rest.length - 2;
        const dash = line.charCodeAt(closing);
        const shape = (dash === 0x2d || dash === 0x2013 ? DASHED : 0) | (startsWithLrm(line) ? LINE_MARKED : 0);
        if (this.start(dateKeyOf(Number(a), a.length, Number(b), b.length, Number(c), c.length), text, other.hour, other.minute, other.second, other.rest, 0, other.rest.length, n, shape)) return;
      }
    }
    // Text before the first header (a preamble some tools add) belongs to no message.
    if (!this.pending) return;
    this.pSize += end - from + 1;
    if (this.pSize > MAX_LINE_CHARS) throw new ChatExportError('message_too_long', `not a WhatsApp chat export: the message at line ${this.pLine} runs past ${MAX_LINE_CHARS} characters`);
    const line = text.slice(from, end);
    if (this.pMore) this.pMore.push(line);
    else this.pMore = [line];
  }

  /**
   * Starts a message at a header line; false when the line is text after all. The date parts are
   * turned into a calendar date only when they differ from the last header's (`dateKey`): those
   * of a common header are read from the line, those of another from `otherParts`. The text
   * after the header is `src` from `from` to `end`, read in place: an ordinary author line makes
   * no string but its message.
   */
  private start(dateKey: number, line: string, hour: number, minute: number, second: number, src: string, from: number, end: number, n: number, shape: number): boolean {
    // Consecutive messages mostly share a day: reuse the last conversion.
    if (dateKey !== this.lastKey) {
      this.lastKey = dateKey;
      const parts = this.otherParts ?? commonDateParts(line, this.common);
      this.lastDay = toCalendarDate(parts, this.options.dateOrder);
    }
    this.otherParts = undefined;
    const day = this.lastDay;
    if (day === undefined) return false;
    let colonAt = src.indexOf(': ', from);
    if (colonAt + 2 > end) colonAt = -1;
    const colon = colonAt === -1 ? -1 : colonAt - from;
    let author: string | null = null;
    let text: string;
    if (colon <= 0 || (mayBeSystemLineWithColon(src, from, colonAt) && isSystemLineWithColon(src.slice(from, end), colon))) {
      // No author: a system line, unless it is an earlier-dated line quoted inside a message.
      text = stripLeadingMarks(src.slice(from, end));
      if (this.pending && day < this.pDay && !isSystemText(text)) return false;
    } else {
      let nameEnd = colonAt;
      const colonAuthors = this.options.colonAuthors;
      if (colonAuthors !== undefined && colonAuthors.size > 0) {
        const longer = colonAuthors.get(src.slice(from, colonAt));
        if (longer !== undefined && from + longer.length + 2 <= end && src.startsWith(`${longer}: `, from)) nameEnd = from + longer.length;
      }
      const raw = src.slice(nameEnd + 2, end);
      text = stripLeadingMarks(raw);
      if (!isAuthoredNotice(text, text.length !== raw.length, shape)) {
        const notice = noticeAfterLongerName(raw, shape);
        if (notice === undefined) author = this.authorName(src, from, nameEnd);
        else text = notice;
      }
    }
    this.flush();
    this.pending = true;
    this.pDay = day;
    this.pDate = `${day}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}`;
    this.pAuthor = author;
    this.pFirst = text;
    this.pMore = null;
    this.pSize = text.length;
    this.pLine = n;
    return true;
  }

  /**
   * The author's name (`src` from `from` to `end`) without marks; the last few names are kept and
   * compared in place, so a chat's authors are made once.
   */
  private authorName(src: string, from: number, end: number): string {
    const names = this.names;
    const length = end - from;
    for (let i = 0; i < names.length; i += 2) {
      const known = names[i]!;
      if (known.length === length && src.startsWith(known, from)) return names[i + 1]!;
    }
    const raw = src.slice(from, end);
    const name = stripMarks(raw).trim();
    if (names.length >= 16) names.splice(0, 2);
    names.push(raw, name);
    return name;
  }

  private flush(): void {
    if (!this.pending) return;
    this.pending = false;
    const first = this.pFirst;
    this.emit(this.pDate, this.pAuthor, this.pMore ? `${first}\n${this.pMore.join('\n')}` : first, attachmentFileName(first), this.pLine);
  }

  /** Hands on a complete message; `push` and `end` return what this collected. */
  protected emit(date: string, author: string | null, message: string, fileName: string | undefined, line: number): void {
    this.out.push(fileName === undefined ? { date, author, message, line } : { date, author, message, line, attachment: { fileName } });
  }
}

/**
 * The same parser writing the parse-export NDJSON straight from the message's fields, without an
 * object per message: `pushNdjson` and `endNdjson` return the lines completed so far.
 */
export class ChatExportNdjsonParser extends ChatExportParser {
  private text = '';

  pushNdjson(chunk: string): string {
    this.push(chunk);
    return this.takeText();
  }

  endNdjson(): string {
    this.end();
    return this.takeText();
  }

  private takeText(): string {
    const text = this.text;
    this.text = '';
    return text;
  }

  protected override emit(date: string, author: string | null, message: string, fileName: string | undefined): void {
    this.text += ndjsonLine(date, author, message, fileName);
  }
}

/**
 * True when `line` (one line, without its break) starts a message whatever came before it: a
 * header with a valid date and an author. A file can be cut before such a line and each part
 * parsed on its own, with the same messages as in one pass (the parts of the parse-export threads).
 * A line without an author is not one: a dated line inside a message may be quoted text.
 */
export function startsMessageAlone(line: string, options: ParserOptions): boolean {
  const header = readHeader(line);
  if (!header || toCalendarDate(header.date, options.dateOrder) === undefined) return false;
  const colon = header.rest.indexOf(': ');
  return colon > 0 && !isSystemLineWithColon(header.rest, colon);
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => pad(i));

/** How a header line is written: closed by " - " (Android), and with LRM before it (iOS, sometimes). */
const DASHED = 1;
const LINE_MARKED = 2;

/** True when the line starts with LRM, after the byte-order mark the first line may keep. */
function startsWithLrm(line: string): boolean {
  const at = line.charCodeAt(0) === 0xfeff ? 1 : 0;
  return line.charCodeAt(at) === 0x200e;
}

/** The longest name WhatsApp lets a group have; iOS writes it as its notices' author. */
const MAX_CHAT_NAME = 100;

/**
 * The notice on an iOS line whose chat name holds ": " ("Smith: Jones sale: ‎Messages and calls
 * are end-to-end encrypted…"), which the first ": " split wrongly. A name said twice or more is
 * known from the export's first pass (`colonAuthors`); this finds one said once, as a group's
 * single notice is: in `raw`, the line after its first ": ", a later ": " within a chat name's
 * length with LRM right after it and a notice after that. With the mark before the "[" instead,
 * only the encryption notice counts, which is anchored at its first word: the other notices'
 * phrases may stand anywhere in a text, and a person's "<attached: …removed from the flat.pdf>"
 * would pass for one. undefined when there is none, as for every line a person wrote.
 */
function noticeAfterLongerName(raw: string, shape: number): string | undefined {
  // Android writes notices with no author: there is no name to be longer.
  if ((shape & DASHED) !== 0) return undefined;
  // Most lines are ruled out by one native search.
  for (let at = raw.indexOf(': \u200e'); at >= 0 && at <= MAX_CHAT_NAME; at = raw.indexOf(': \u200e', at + 1)) {
    const text = stripLeadingMarks(raw.slice(at + 2));
    if (isAuthoredNotice(text, true, shape)) return text;
  }
  if ((shape & LINE_MARKED) === 0) return undefined;
  for (let at = raw.indexOf(': '); at >= 0 && at <= MAX_CHAT_NAME; at = raw.indexOf(': ', at + 1)) {
    const text = raw.slice(at + 2);
    if (isEncryptionNotice(text)) return stripLeadingMarks(text);
  }
  return undefined;
}

/**
 * True when an authored line is one of WhatsApp's own notices (PROTOCOLS.md 5.3). iOS writes them
 * as if the chat's name (in a chat of two, the other person's) were the author, with LRM before
 * the text or, sometimes, before the "[". Android writes its notices with no author, so an authored
 * line closed by " - " is always a person's. A text without the mark is what someone typed, however
 * much it reads like a notice; so is an attachment marker, which iOS marks too (a file may be
 * named "Items removed from the flat.pdf").
 */
function isAuthoredNotice(text: string, textMarked: boolean, shape: number): boolean {
  if (!textMarked && (shape & LINE_MARKED) === 0) return false;
  return (shape & DASHED) === 0 && isSystemText(text) && attachmentFileName(text) === undefined;
}

/** One NDJSON line in the fixed key order of the parse-export contract (no line number). */
export function toNdjsonLine(m: ChatMessage): string {
  return ndjsonLine(m.date, m.author, m.message, m.attachment?.fileName);
}

function ndjsonLine(date: string, author: string | null, message: string, fileName: string | undefined): string {
  const head = `{"date":"${date}","author":${author === null ? 'null' : authorJson(author)},"message":${jsonString(message)}`;
  return fileName === undefined ? `${head}}\n` : `${head},"attachment":{"fileName":${JSON.stringify(fileName)}}}\n`;
}

// What JSON.stringify would change in a string: quotes, backslashes, controls and lone surrogates.
// eslint-disable-next-line no-control-regex -- the controls are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON: most texts need no escapes, and quoting them as they are makes no copy. */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

// A chat has few authors: each name is encoded once.
const authorJsonCache = new Map<string, string>();
function authorJson(author: string): string {
  let json = authorJsonCache.get(author);
  if (json === undefined) {
    json = JSON.stringify(author);
    if (authorJsonCache.size >= 1000) authorJsonCache.clear();
    authorJsonCache.set(author, json);
  }
  return json;
}

/** Parses a whole export held in memory (small files, tests): both passes over the one string. */
export function parseChatExportText(text: string, overrides: { dateOrder?: DateOrder } = {}): ParsedMessage[] {
  const profiler = new ExportProfiler();
  profiler.push(text);
  const profile = profiler.end();
  const parser = new ChatExportParser({ dateOrder: overrides.dateOrder ?? profile.dateOrder, colonAuthors: profile.colonAuthors });
  return [...parser.push(text), ...parser.end()];
}
