import { ChatExportError } from './errors.js';

/** WhatsApp caps a message at 65,536 characters; a far longer line is no export. */
export const MAX_LINE_CHARS = 1 << 20;

/**
 * Splits text chunks into lines (LF, CRLF or a lone CR), keeping the unfinished tail for the next
 * chunk. Calls `onLine` with each complete line as the text it lies in, its start and end there,
 * and its 1-based number: no string per line, so a reader that only looks at a line makes none.
 */
export class LineSplitter {
  private tail = '';
  private lastWasCr = false;
  line = 0;

  constructor(private readonly onLine: (text: string, start: number, end: number, number: number) => void) {}

  push(chunk: string): void {
    let text = this.tail + chunk;
    // A CRLF split across chunks: the LF belongs to the line the CR ended.
    if (this.lastWasCr && this.tail === '' && text.charCodeAt(0) === 10) text = text.slice(1);
    this.lastWasCr = false;
    let start = 0;
    const n = text.length;
    // Found once and reused: searching for CR on every line of a CR-free chunk would be quadratic.
    let cr = text.indexOf('\r');
    while (start < n) {
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      const nl = text.indexOf('\n', start);
      if (cr !== -1 && (nl === -1 || cr < nl)) {
        this.emit(text, start, cr);
        if (cr + 1 === n) {
          this.lastWasCr = true;
          start = n;
          break;
        }
        start = text.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        continue;
      }
      if (nl === -1) break;
      this.emit(text, start, nl);
      start = nl + 1;
    }
    this.tail = start < n ? text.slice(start) : '';
    if (this.tail.length > MAX_LINE_CHARS) throw new ChatExportError('message_too_long', `not a WhatsApp chat export: line ${this.line + 1} runs past ${MAX_LINE_CHARS} characters`);
  }

  end(): void {
    if (this.tail !== '') this.emit(this.tail, 0, this.tail.length);
    this.tail = '';
  }

  private emit(text: string, start: number, end: number): void {
    this.line += 1;
    this.onLine(text, start, end, this.line);
  }
}
