import { ChatExportError, ChatExportNdjsonParser, ChatExportParser, ExportDecoder, ExportProfiler, type DateOrder, type ExportProfile, type ParsedMessage } from '@wa-bridge/shared/chat-export';
import { BadInputError } from '../../core/errors.js';
import type { ExportReader } from '../../flows/import.js';
import { asciiText } from './pieces.js';
import type { ExportSource } from './source.js';

/**
 * Reads an export's messages in two streaming passes over its text: the first learns the date
 * order and colon-bearing author names from every header, the second emits messages in batches.
 * Memory stays at one chunk plus one message whatever the file size. A profile from an earlier
 * first pass skips it. Throws BadInputError when the text is binary or no export.
 */
export async function* readExportMessages(
  source: ExportSource,
  options: { dateOrder?: DateOrder; profile?: ExportProfile } = {},
): AsyncGenerator<ParsedMessage[], ExportProfile> {
  const profile = options.profile ?? (await profileExport(source));
  const parser = new ChatExportParser({ dateOrder: options.dateOrder ?? profile.dateOrder, colonAuthors: profile.colonAuthors });
  const decoder = new ExportDecoder(asciiText);
  try {
    for await (const bytes of source.openText()) {
      const batch = parser.push(decoder.decode(bytes));
      if (batch.length > 0) yield batch;
    }
    parser.push(decoder.end());
    const last = parser.end();
    if (last.length > 0) yield last;
  } catch (error) {
    throw asBadInput(source.file, error);
  }
  return profile;
}

/**
 * The same two passes, yielding the parse-export NDJSON text of the messages instead of the
 * messages (no object per message). Throws BadInputError like readExportMessages.
 */
export async function* readExportNdjson(source: ExportSource, options: { dateOrder?: DateOrder } = {}): AsyncGenerator<string> {
  const profile = await profileExport(source);
  const parser = new ChatExportNdjsonParser({ dateOrder: options.dateOrder ?? profile.dateOrder, colonAuthors: profile.colonAuthors });
  const decoder = new ExportDecoder(asciiText);
  try {
    for await (const bytes of source.openText()) {
      const text = parser.pushNdjson(decoder.decode(bytes));
      if (text.length > 0) yield text;
    }
    parser.push(decoder.end());
    const last = parser.endNdjson();
    if (last.length > 0) yield last;
  } catch (error) {
    throw asBadInput(source.file, error);
  }
}

/** The first pass alone: date order, author names and the number of headers. */
export async function profileExport(source: ExportSource): Promise<ExportProfile> {
  const profiler = new ExportProfiler();
  const decoder = new ExportDecoder(asciiText);
  try {
    for await (const bytes of source.openText()) profiler.push(decoder.decode(bytes));
    profiler.push(decoder.end());
    return profiler.end();
  } catch (error) {
    throw asBadInput(source.file, error);
  }
}

/** A parser's refusal as the bad input it is, naming the file; other errors as they are. */
export function asBadInput(file: string, error: unknown): unknown {
  if (error instanceof ChatExportError) return new BadInputError(error.code, `${file}: ${error.message}`);
  return error;
}

/** An export opened for the import flow: the first pass done once, the second as often as asked. */
export async function openExportReader(source: ExportSource, dateOrder?: DateOrder): Promise<ExportReader & { dateOrder: DateOrder; profile: ExportProfile }> {
  const profile = await profileExport(source);
  const order = dateOrder ?? profile.dateOrder;
  return {
    dateOrder: order,
    profile,
    messages: () => readExportMessages(source, { dateOrder: order, profile }),
    readMedia: (name) => source.readMedia(name),
    mediaNames: () => source.mediaNames(),
  };
}
