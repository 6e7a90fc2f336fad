import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError } from '../../core/errors.js';
import { openExportZip, readZipEntry, type ZipExport } from './zip.js';

/** The largest media file read into memory for the blob store (WhatsApp's document cap). */
export const MAX_MEDIA_BYTES = 2 * 1024 ** 3;

/** A chat export on disk: a .txt, or a zip with the text and its media. */
export interface ExportSource {
  file: string;
  kind: 'txt' | 'zip';
  size: number;
  /**
   * The chat text's bytes; may be called more than once (the parser reads the text twice). A
   * chunk is valid until the next is asked for (the reader may reuse its buffer).
   */
  openText(): AsyncIterable<Uint8Array>;
  /** Base names of the media files in the zip (none for a .txt). */
  mediaNames(): string[];
  /** The bytes of one media file, or undefined when the zip has no file of that name. */
  readMedia(name: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/**
 * Opens FILE as an export. A zip is recognised by its signature, whatever its name; anything
 * else is read as text and the parser decides whether it is an export. BadInputError for a
 * missing or unreadable file, a directory, or a zip that fails the checks in zip.ts.
 */
export async function openExportSource(file: string): Promise<ExportSource> {
  const info = await stat(file).catch((error: unknown) => {
    throw unreadable(file, error);
  });
  if (!info.isFile()) throw new BadInputError('file_unreadable', `${file} is not a regular file`);
  if (await isZip(file)) return zipSource(file, info.size, await openExportZip(file));
  return {
    file,
    kind: 'txt',
    size: info.size,
    openText: () => readChunks(file),
    mediaNames: () => [],
    readMedia: async () => undefined,
    close: async () => {},
  };
}

/** The file's bytes from start to end, as fileChunks reads them. */
async function* readChunks(file: string): AsyncGenerator<Uint8Array> {
  const fd = openSync(file, 'r');
  try {
    yield* fileChunks(fd, 0, Number.POSITIVE_INFINITY);
  } finally {
    closeSync(fd);
  }
}

/**
 * Bytes [start, end) of an open file (to its end when `end` lies beyond it) in chunks of 64 KiB,
 * read synchronously into one buffer that each chunk reuses: the readers decode a chunk before
 * asking for the next, and this costs a third of stream reads with a fresh buffer each (larger
 * chunks cost more: their strings are too large for the young generation).
 */
export function* fileChunks(fd: number, start: number, end: number): Generator<Uint8Array> {
  const chunk = Buffer.allocUnsafe(1 << 16);
  for (let at = start; at < end; ) {
    const bytesRead = readSync(fd, chunk, 0, Math.min(chunk.length, end - at), at);
    if (bytesRead === 0) return;
    at += bytesRead;
    yield chunk.subarray(0, bytesRead);
  }
}

function zipSource(file: string, size: number, zip: ZipExport): ExportSource {
  return {
    file,
    kind: 'zip',
    size,
    openText: () => readZipEntry(zip.zip, zip.chat, file),
    mediaNames: () => [...zip.media.keys()],
    async readMedia(name) {
      const entry = zip.media.get(name);
      if (!entry) return undefined;
      if (entry.uncompressedSize > MAX_MEDIA_BYTES) throw new BadInputError('zip_refused', `${path.basename(file)}: refused: ${name} is larger than ${MAX_MEDIA_BYTES} bytes`);
      const chunks: Buffer[] = [];
      for await (const chunk of readZipEntry(zip.zip, entry, file)) chunks.push(chunk);
      return Buffer.concat(chunks);
    },
    close: async () => zip.zip.close(),
  };
}

async function isZip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    // Local file header, or the end record of an empty zip.
    return bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
  } finally {
    await handle.close();
  }
}

/** SHA-256 (hex) of a whole file, streamed: the import records it as evidence of its source. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function unreadable(file: string, error: unknown): BadInputError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'read failed');
  return new BadInputError('file_unreadable', `cannot read ${file}: ${why}`);
}
