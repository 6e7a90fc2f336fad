import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { BadInputError } from '../../core/errors.js';

/**
 * Limits that keep a hostile zip from exhausting disk or memory. WhatsApp's own exports hold one
 * text file and at most about 10,000 media files (PROTOCOLS.md 5.1), with no folders.
 */
export const zipLimits = {
  maxEntries: 20_000,
  /** WhatsApp documents are capped at 2 GB. */
  maxEntryBytes: 2 * 1024 ** 3,
  maxTotalBytes: 32 * 1024 ** 3,
  /** Media barely compress and chat text about 5-10:1; zip bombs reach 1000:1. */
  maxRatio: 100,
  /** Below this size a high ratio cannot hurt (a short text of repeated characters). */
  ratioFloorBytes: 1024 * 1024,
};

export interface ZipExport {
  zip: ZipFile;
  /** The chat text: `_chat.txt`, `WhatsApp Chat with ….txt`, or the only .txt in the archive. */
  chat: Entry;
  /** Media by base name, as attachment lines name them. */
  media: Map<string, Entry>;
}

const refuse = (file: string, why: string) => new BadInputError('zip_refused', `${path.basename(file)}: refused: ${why}`);

/**
 * Opens a zip, checks every entry from the central directory before a byte is inflated, and
 * finds the chat text. Throws BadInputError for a zip bomb (size, ratio or entry count), a name
 * that leaves the archive (absolute, "..", backslash), a symlink, an encrypted entry, or no chat.
 */
export async function openExportZip(file: string): Promise<ZipExport> {
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true }, (error, opened) =>
      error ? reject(refuse(file, zipProblem(error))) : resolve(opened),
    ),
  );
  try {
    if (zip.entryCount > zipLimits.maxEntries) throw refuse(file, `${zip.entryCount} entries, more than the ${zipLimits.maxEntries} an export can hold`);
    const entries = await listEntries(zip, file);
    const texts = entries.filter((e) => !e.fileName.endsWith('/') && /\.txt$/i.test(e.fileName));
    const chat =
      texts.find((e) => path.posix.basename(e.fileName) === '_chat.txt') ??
      texts.find((e) => /^WhatsApp Chat (with|mit|con|avec|com|met) .+\.txt$/i.test(path.posix.basename(e.fileName))) ??
      (texts.length === 1 ? texts[0] : undefined);
    if (!chat) throw refuse(file, texts.length === 0 ? 'no chat text (_chat.txt or "WhatsApp Chat with ….txt") in the zip' : 'several .txt files and none is named _chat.txt or "WhatsApp Chat with ….txt"');
    const media = new Map<string, Entry>();
    for (const entry of entries) {
      if (entry === chat || entry.fileName.endsWith('/')) continue;
      media.set(path.posix.basename(entry.fileName), entry);
    }
    return { zip, chat, media };
  } catch (error) {
    zip.close();
    throw error;
  }
}

function listEntries(zip: ZipFile, file: string): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    let total = 0;
    zip.on('error', (error: Error) => reject(refuse(file, zipProblem(error))));
    zip.on('end', () => resolve(entries));
    zip.on('entry', (entry: Entry) => {
      const problem = entryProblem(entry);
      if (problem) return reject(refuse(file, problem));
      total += entry.uncompressedSize;
      if (total > zipLimits.maxTotalBytes) return reject(refuse(file, `it would unpack to more than ${zipLimits.maxTotalBytes} bytes`));
      entries.push(entry);
      zip.readEntry();
    });
    zip.readEntry();
  });
}

function entryProblem(entry: Entry): string | undefined {
  const name = entry.fileName;
  // yauzl already refuses absolute names, ".." and backslashes (strictFileNames); this also
  // catches control characters, which no phone puts into a media name.
  if (/\p{Cc}/u.test(name) || name.split('/').includes('..') || name.startsWith('/')) return `entry name ${JSON.stringify(name)} points outside the archive`;
  const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
  if (mode === 0o120000) return `entry ${JSON.stringify(name)} is a symbolic link`;
  if (entry.isEncrypted()) return `entry ${JSON.stringify(name)} is encrypted`;
  if (!entry.canDecodeFileData()) return `entry ${JSON.stringify(name)} uses an unsupported compression method`;
  if (entry.uncompressedSize > zipLimits.maxEntryBytes) return `entry ${JSON.stringify(name)} would unpack to ${entry.uncompressedSize} bytes, over ${zipLimits.maxEntryBytes}`;
  if (entry.uncompressedSize > zipLimits.ratioFloorBytes && entry.uncompressedSize > zipLimits.maxRatio * Math.max(entry.compressedSize, 1)) {
    return `entry ${JSON.stringify(name)} expands ${Math.round(entry.uncompressedSize / Math.max(entry.compressedSize, 1))}:1, which only a zip bomb does`;
  }
  return undefined;
}

function zipProblem(error: Error): string {
  const m = error.message;
  if (/invalid relative path|absolute path|invalid characters in fileName/.test(m)) return `an entry name points outside the archive (${m})`;
  if (/too many bytes|not enough bytes/.test(m)) return `an entry's real size differs from the size it declares (${m})`;
  if (/end of central directory/i.test(m)) return 'not a zip file, or a damaged one';
  return `damaged zip (${m})`;
}

/**
 * Streams one entry's bytes. yauzl checks the inflated size against the declared size
 * (validateEntrySizes); a stream that overruns fails with BadInputError, never silently.
 */
export async function* readZipEntry(zip: ZipFile, entry: Entry, file: string): AsyncGenerator<Buffer> {
  const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (error, s) => (error ? reject(refuse(file, zipProblem(error))) : resolve(s))));
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw error instanceof BadInputError ? error : refuse(file, zipProblem(error as Error));
  } finally {
    stream.destroy();
  }
}
