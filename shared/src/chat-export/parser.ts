import { attachmentFileName } from './attachments.js';
import { pad, toCalendarDate, type DateOrder } from './date-order.js';
import { ChatExportError } from './errors.js';
import { readHeader, type Header } from './header.js';
import { LineSplitter, MAX_LINE_CHARS } from './lines.js';
import { stripLeadingMarks, stripMarks } from './marks.js';
import { ExportProfiler } from './profile.js';
import { isSystemLineWithColon, isSystemText } from './system-texts.js';

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
}

/**
 * Second pass: text chunks in, complete messages out. A message is complete when the next header
 * (or the end) arrives, so at most one message is held; memory does not grow with the file.
 * Feed it with `push`, collect with the `out` array, finish with `end`.
 */
export class ChatExportParser {
  private readonly lines: LineSplitter;
  private out: ParsedMessage[] = [];
  private lastDate: readonly [string, string, string] = ['', '', ''];
  private lastDay: string | undefined;
  // The message being read, as plain fields: one object per line would be garbage at a million lines.
  private pending = false;
  private pDate = '';
  private pAuthor: string | null = null;
  private pFirst = '';
  private pMore: string[] | null = null;
  private pSize = 0;
  private pLine = 0;

  constructor(private readonly options: ParserOptions) {
    this.lines = new LineSplitter((line, n) => this.onLine(line, n));
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

  private onLine(line: string, n: number): void {
    const header = readHeader(line);
    if (header && this.start(header, n)) return;
    // Text before the first header (a preamble some tools add) belongs to no message.
    if (!this.pending) return;
    this.pSize += line.length + 1;
    if (this.pSize > MAX_LINE_CHARS) throw new ChatExportError('message_too_long', `not a WhatsApp chat export: the message at line ${this.pLine} runs past ${MAX_LINE_CHARS} characters`);
    if (this.pMore) this.pMore.push(line);
    else this.pMore = [line];
  }

  /** Starts a message at a header line; false when the line is text after all. */
  private start(header: Header, n: number): boolean {
    const [a, b, c] = header.date;
    // Consecutive messages mostly share a day: reuse the last conversion.
    if (a !== this.lastDate[0] || b !== this.lastDate[1] || c !== this.lastDate[2]) {
      this.lastDate = header.date;
      this.lastDay = toCalendarDate(header.date, this.options.dateOrder);
    }
    const day = this.lastDay;
    if (day === undefined) return false;
    const rest = header.rest;
    const colon = rest.indexOf(': ');
    let author: string | null = null;
    let text: string;
    if (colon <= 0 || isSystemLineWithColon(rest, colon)) {
      // No author: a system line, unless it is an earlier-dated line quoted inside a message.
      text = stripLeadingMarks(rest);
      if (this.pending && day < this.pDate.slice(0, 10) && !isSystemText(text)) return false;
    } else {
      let name = rest.slice(0, colon);
      let textStart = colon + 2;
      const longer = this.options.colonAuthors?.get(name);
      if (longer !== undefined && rest.startsWith(`${longer}: `)) {
        name = longer;
        textStart = longer.length + 2;
      }
      const raw = rest.slice(textStart);
      text = stripLeadingMarks(raw);
      // iOS writes its own notices as the chat's name followed by LRM and the notice.
      if (text.length === raw.length || !isSystemText(text)) author = stripMarks(name).trim();
    }
    this.flush();
    this.pending = true;
    this.pDate = `${day}T${TWO_DIGITS[header.hour]}:${TWO_DIGITS[header.minute]}:${TWO_DIGITS[header.second]}`;
    this.pAuthor = author;
    this.pFirst = text;
    this.pMore = null;
    this.pSize = text.length;
    this.pLine = n;
    return true;
  }

  private flush(): void {
    if (!this.pending) return;
    this.pending = false;
    const first = this.pFirst;
    const message = this.pMore ? `${first}\n${this.pMore.join('\n')}` : first;
    const fileName = attachmentFileName(first);
    const parsed: ParsedMessage =
      fileName === undefined
        ? { date: this.pDate, author: this.pAuthor, message, line: this.pLine }
        : { date: this.pDate, author: this.pAuthor, message, line: this.pLine, attachment: { fileName } };
    this.out.push(parsed);
  }
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => pad(i));

/** One NDJSON line in the fixed key order of the parse-export contract (no line number). */
export function toNdjsonLine(m: ChatMessage): string {
  const head = `{"date":"${m.date}","author":${m.author === null ? 'null' : JSON.stringify(m.author)},"message":${JSON.stringify(m.message)}`;
  return m.attachment ? `${head},"attachment":{"fileName":${JSON.stringify(m.attachment.fileName)}}}\n` : `${head}}\n`;
}

/** Parses a whole export held in memory (small files, tests): both passes over the one string. */
export function parseChatExportText(text: string, overrides: { dateOrder?: DateOrder } = {}): ParsedMessage[] {
  const profiler = new ExportProfiler();
  profiler.push(text);
  const profile = profiler.end();
  const parser = new ChatExportParser({ dateOrder: overrides.dateOrder ?? profile.dateOrder, colonAuthors: profile.colonAuthors });
  return [...parser.push(text), ...parser.end()];
}
