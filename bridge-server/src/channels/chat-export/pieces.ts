import { ChatExportNdjsonParser, ExportDecoder, ExportProfiler, startsMessageAlone, type ParserOptions, type PartialProfile } from '@wa-bridge/shared/chat-export';
import { isAscii } from 'node:buffer';
import { readSync } from 'node:fs';
import { fileChunks } from './source.js';

/**
 * A plain-text export read in parts, each on its own (the parse-export threads). All offsets are
 * bytes of the file. Parts start and end at line starts, so no part splits a character or a line;
 * the second pass cuts only before lines that start a message whatever precedes them
 * (`startsMessageAlone`), so each part gives exactly the messages one pass would.
 */

const LF = 0x0a;
const CR = 0x0d;

/** An open export file: its descriptor and size. */
export interface ExportFile {
  fd: number;
  size: number;
}

function byteAt(file: ExportFile, at: number): number {
  const one = Buffer.allocUnsafe(1);
  return readSync(file.fd, one, 0, 1, at) === 1 ? one[0]! : -1;
}

/** Where the first line break at or after `from` is (LF or CR), or the size when none. */
function lineBreakAtOrAfter(file: ExportFile, from: number): number {
  let at = from;
  for (const chunk of fileChunks(file.fd, from, file.size)) {
    const lf = chunk.indexOf(LF);
    const cr = chunk.indexOf(CR);
    const found = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
    if (found !== -1) return at + found;
    at += chunk.length;
  }
  return file.size;
}

/** The start of the line after the one whose break is at `lineBreak` (CRLF is one break). */
function afterBreak(file: ExportFile, lineBreak: number): number {
  if (lineBreak >= file.size) return file.size;
  return byteAt(file, lineBreak) === CR && byteAt(file, lineBreak + 1) === LF ? lineBreak + 2 : lineBreak + 1;
}

/** The first line start at or after `from`: after LF, or after a CR that no LF follows. */
export function lineStartAtOrAfter(file: ExportFile, from: number): number {
  if (from <= 0) return 0;
  if (from >= file.size) return file.size;
  const before = byteAt(file, from - 1);
  if (before === LF || (before === CR && byteAt(file, from) !== LF)) return from;
  return afterBreak(file, lineBreakAtOrAfter(file, from));
}

/**
 * The first line start at or after `from` whose line starts a message whatever precedes it, or
 * the size when there is none. 0 for 0: the file's start is where its first part starts.
 */
export function messageCutAtOrAfter(file: ExportFile, from: number, options: ParserOptions): number {
  if (from <= 0) return 0;
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for (let start = lineStartAtOrAfter(file, from); start < file.size; ) {
    const lineBreak = lineBreakAtOrAfter(file, start);
    const bytes = Buffer.allocUnsafe(lineBreak - start);
    readSync(file.fd, bytes, 0, bytes.length, start);
    if (startsMessageAlone(decoder.decode(bytes), options)) return start;
    start = afterBreak(file, lineBreak);
  }
  return file.size;
}

/** Text of bytes [start, end) in chunks; `start` > 0 is a line start inside the file. */
function* textChunks(file: ExportFile, start: number, end: number): Generator<string> {
  const decoder = new ExportDecoder(asciiText, { continuation: start > 0 });
  for (const bytes of fileChunks(file.fd, start, end)) yield decoder.decode(bytes);
  yield decoder.end();
}

/** ASCII bytes as text without TextDecoder (latin1 reads ASCII as it is); undefined for other bytes. */
export function asciiText(bytes: Uint8Array): string | undefined {
  return isAscii(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') : undefined;
}

/**
 * The first pass over part `index` of `count` equal parts of the file (cut at line starts).
 * Throws what the one-pass profiler would, for this part's lines (numbered within the part).
 */
export function profilePart(file: ExportFile, index: number, count: number): PartialProfile {
  const start = lineStartAtOrAfter(file, Math.floor((file.size * index) / count));
  const end = index === count - 1 ? file.size : lineStartAtOrAfter(file, Math.floor((file.size * (index + 1)) / count));
  const profiler = new ExportProfiler({ later: start > 0 });
  for (const text of textChunks(file, start, end)) profiler.push(text);
  return profiler.endPartial();
}

/**
 * The parse-export NDJSON of the messages from byte `start` (a message cut, or 0) to the end,
 * in pieces as they come: the one-pass reading, from any cut. `linesBefore` numbers the lines
 * in errors as in the whole file.
 */
export function* ndjsonFrom(file: ExportFile, start: number, options: ParserOptions): Generator<string> {
  const parser = new ChatExportNdjsonParser(options);
  for (const text of textChunks(file, start, file.size)) {
    const out = parser.pushNdjson(text);
    if (out.length > 0) yield out;
  }
  yield parser.endNdjson();
}

export interface ParsedPiece {
  /** The bytes this piece covered: from the first message cut at or after its nominal start to the first at or after its nominal end. */
  start: number;
  end: number;
  /** Lines in [start, end). */
  lines: number;
  /** The NDJSON as UTF-8, in a buffer of its own (it may be handed to another thread). */
  ndjson: Uint8Array;
}

/**
 * The second pass over the nominal byte range [from, to): the messages from the first message cut
 * at or after `from` to the first at or after `to`. Consecutive ranges give consecutive pieces
 * whose output, joined, is the one-pass output; a piece may be empty when no cut falls inside its
 * range (a long message), and the piece before then reaches past it.
 */
export function parsePiece(file: ExportFile, from: number, to: number, options: ParserOptions, reuse?: ArrayBuffer): ParsedPiece {
  const start = messageCutAtOrAfter(file, from, options);
  const end = to >= file.size ? file.size : messageCutAtOrAfter(file, to, options);
  if (start >= end) return { start: end, end, lines: 0, ndjson: new Uint8Array(0) };
  const parser = new ChatExportNdjsonParser(options);
  // Encoded chunk by chunk: one string for the whole piece would be a rope of every message,
  // slow to flatten and large enough to burden the collector.
  const out = new ByteSink(Math.ceil((end - start) * 1.5), reuse);
  for (const text of textChunks(file, start, end)) out.write(parser.pushNdjson(text));
  out.write(parser.endNdjson());
  return { start, end, lines: parser.linesRead, ndjson: out.bytes() };
}

/** UTF-8 text appended to one growing buffer. */
class ByteSink {
  private buffer: Buffer;
  private length = 0;

  /** `reuse`: a buffer whose content is done with, taken when it is large enough. */
  constructor(capacity: number, reuse?: ArrayBuffer) {
    this.buffer = Buffer.from(reuse && reuse.byteLength >= capacity ? reuse : new ArrayBuffer(Math.max(capacity, 1024)));
  }

  write(text: string): void {
    // Three bytes per UTF-16 unit at most (a surrogate pair is two units for four bytes).
    if (this.length + text.length * 3 > this.buffer.length) {
      const larger = Buffer.from(new ArrayBuffer(Math.max(this.buffer.length * 2, this.length + text.length * 3)));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
    }
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, 0, this.length);
  }
}
