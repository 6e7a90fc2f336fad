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

interface Pending {
  date: string;
  author: string | null;
  first: string;
  more: string[] | null;
  size: number;
  line: number;
}

/**
 * Second pass: text chunks in, complete messages out. A message is complete when the next header
 * (or the end) arrives, so at most one message is held; memory does not grow with the file.
 * Feed it with `push`, collect with the `out` array, finish with `end`.
 */
export class ChatExportParser {
  private readonly lines: LineSplitter;
  private pending: Pending | undefined;
  private out: ParsedMessage[] = [];

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
    const start = header ? this.toStart(header) : undefined;
    if (!start) {
      const p = this.pending;
      // Text before the first header (a preamble some tools add) belongs to no message.
      if (!p) return;
      p.size += line.length + 1;
      if (p.size > MAX_LINE_CHARS) throw new ChatExportError('message_too_long', `not a WhatsApp chat export: the message at line ${p.line} runs past ${MAX_LINE_CHARS} characters`);
      if (p.more) p.more.push(line);
      else p.more = [line];
      return;
    }
    this.flush();
    this.pending = { ...start, more: null, size: start.first.length, line: n };
  }

  private toStart(header: Header): Omit<Pending, 'more' | 'size' | 'line'> | undefined {
    const day = toCalendarDate(header.date, this.options.dateOrder);
    if (day === undefined) return undefined;
    const date = `${day}T${pad(header.hour)}:${pad(header.minute)}:${pad(header.second)}`;
    const rest = header.rest;
    const colon = rest.indexOf(': ');
    if (colon <= 0 || isSystemLineWithColon(rest)) {
      // No author: a system line, unless it is an earlier-dated line quoted inside a message.
      const text = stripLeadingMarks(rest);
      if (this.pending && day < this.pending.date.slice(0, 10) && !isSystemText(text)) return undefined;
      return { date, author: null, first: text };
    }
    let author = rest.slice(0, colon);
    let textStart = colon + 2;
    const longer = this.options.colonAuthors?.get(author);
    if (longer !== undefined && rest.startsWith(`${longer}: `)) {
      author = longer;
      textStart = longer.length + 2;
    }
    const raw = rest.slice(textStart);
    const text = stripLeadingMarks(raw);
    // iOS writes its own notices as the chat's name followed by LRM and the notice.
    if (text.length !== raw.length && isSystemText(text)) return { date, author: null, first: text };
    return { date, author: stripMarks(author).trim(), first: text };
  }

  private flush(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const message = p.more ? `${p.first}\n${p.more.join('\n')}` : p.first;
    const fileName = attachmentFileName(p.first);
    const parsed: ParsedMessage = { date: p.date, author: p.author, message, line: p.line };
    if (fileName !== undefined) parsed.attachment = { fileName };
    this.out.push(parsed);
  }
}

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
