import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, lstat, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError } from '../core/errors.js';

/**
 * Output files that must not exist yet (an export, a decrypted bundle): a file already at the
 * name, or one that appears there while the command runs, is never replaced, written into or
 * removed.
 */

const linkUnsupported = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Throws a BadInputError naming `label` (e.g. `--out report.zip`) when something is at `file`, a
 * dangling link included, or when the directory it would go in is missing.
 */
export async function refuseExisting(file: string, label: string): Promise<void> {
  const found = await lstat(file).then(
    () => true,
    (error: unknown) => {
      if (codeOf(error) === 'ENOENT') return false;
      throw new BadInputError('bad_output', `${label}: cannot be checked (${codeOf(error) ?? String(error)})`);
    },
  );
  if (found) throw new BadInputError('output_exists', `${label}: already exists; name a file that does not exist (it was left as it is)`);
  const dir = path.dirname(file);
  const isDir = await stat(dir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDir) throw new BadInputError('bad_output', `${label}: there is no directory ${dir} to write it in`);
}

/**
 * Makes `target` through a temporary name in the same directory: `write` must create that file
 * exclusively (flag wx) and fill it; it is then linked to `target`, which fails rather than
 * replace a file made there meanwhile, and its temporary name removed. A failure leaves no file
 * behind and `target` as it was. Where the file system has no hard links the copy is made with
 * COPYFILE_EXCL instead, which refuses an existing target too.
 */
export async function writeNewFile<T>(target: string, write: (temp: string) => Promise<T>, label = target): Promise<T> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  let result: T;
  try {
    result = await write(temp);
  } catch (error) {
    // An EEXIST on the temporary name means the file there is someone else's.
    const foreign = codeOf(error) === 'EEXIST' && (error as NodeJS.ErrnoException).path === temp;
    if (!foreign) await rm(temp, { force: true });
    throw error;
  }
  try {
    await link(temp, target).catch(async (error: unknown) => {
      if (!linkUnsupported.has(codeOf(error) ?? '')) throw error;
      await copyFile(temp, target, constants.COPYFILE_EXCL);
    });
  } catch (error) {
    if (codeOf(error) === 'EEXIST') throw new BadInputError('output_exists', `${label}: a file of that name appeared while this command ran; it was left as it is and nothing was written`);
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return result;
}
