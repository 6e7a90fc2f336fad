import type { Command } from 'commander';
import { readFile, stat } from 'node:fs/promises';
import { BadInputError } from '../core/errors.js';
import { runCommand } from './run.js';

/** Files larger than this are refused before they are read. */
export const MAX_REPLY_FILE_BYTES = 25 * 1024 * 1024;

/**
 * `wa-bridge reply-text FILE` (a fixed contract other tools rely on): prints only the text
 * the person wrote in a reply (.eml, or a .txt body), then one newline; a reply with no text of its
 * own prints just the newline. Exit 0; exit 2 with one `wa-bridge: …` line for a file that is
 * missing, unreadable, over 25 MiB, or not a message or text.
 */
export function registerReplyText(program: Command): void {
  program
    .command('reply-text')
    .description('Print only the text the person wrote in a reply (.eml or .txt): no quoted history, signature or footers.')
    .argument('<file>', 'an RFC 5322 message (.eml) or a plain-text body (.txt)')
    .action((file: string) =>
      runCommand(async () => {
        const bytes = await readReplyFile(file);
        const [{ extractReplyText }, { parseReplySource }] = await Promise.all([import('../mail/inbound/reply-text/extract.js'), import('../mail/inbound/reply-text/parse-source.js')]);
        const text = extractReplyText(await parseReplySource(bytes, file));
        process.stdout.write(`${text}\n`);
      }),
    );
}

/** Reads a reply file after checking it is a regular file of at most 25 MiB; BadInputError otherwise. */
export async function readReplyFile(file: string): Promise<Buffer> {
  const info = await stat(file).catch((error: unknown) => {
    throw unreadable(file, error);
  });
  if (!info.isFile()) throw new BadInputError('file_unreadable', `${file} is not a regular file`);
  if (info.size > MAX_REPLY_FILE_BYTES) throw new BadInputError('file_too_large', `${file} is larger than 25 MiB (${info.size} bytes)`);
  return readFile(file).catch((error: unknown) => {
    throw unreadable(file, error);
  });
}

function unreadable(file: string, error: unknown): BadInputError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'read failed');
  return new BadInputError('file_unreadable', `cannot read ${file}: ${why}`);
}
