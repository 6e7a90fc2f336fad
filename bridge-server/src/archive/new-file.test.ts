import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refuseExisting, writeNewFile } from './new-file.js';

describe('writing an output file that must not exist', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-new-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the file through a temporary name and leaves nothing else', async () => {
    const target = path.join(dir, 'bundle.zip');
    expect(await writeNewFile(target, async (temp) => (await writeFile(temp, 'bundle', { flag: 'wx' }), 'done'))).toBe('done');
    expect(await readFile(target, 'utf8')).toBe('bundle');
    expect(await readdir(dir)).toEqual(['bundle.zip']);
  });

  it('leaves a file made at the name while it wrote as it is, and says so', async () => {
    const target = path.join(dir, 'report.zip');
    const written = writeNewFile(
      target,
      async (temp) => {
        await writeFile(temp, 'ours', { flag: 'wx' });
        await writeFile(target, 'theirs');
      },
      '--out report.zip',
    );
    await expect(written).rejects.toThrow('--out report.zip: a file of that name appeared while this command ran; it was left as it is and nothing was written');
    expect(await readFile(target, 'utf8')).toBe('theirs');
    expect(await readdir(dir)).toEqual(['report.zip']);
  });

  it('removes its temporary file when writing fails, and makes no target', async () => {
    const target = path.join(dir, 'out.zip');
    await expect(
      writeNewFile(target, async (temp) => {
        await writeFile(temp, 'half', { flag: 'wx' });
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a name that is taken, a dangling link included, and a directory that is not there', async () => {
    await expect(refuseExisting(path.join(dir, 'free.zip'), '--out free.zip')).resolves.toBeUndefined();
    await writeFile(path.join(dir, 'taken.zip'), 'x');
    await expect(refuseExisting(path.join(dir, 'taken.zip'), '--out taken.zip')).rejects.toThrow('--out taken.zip: already exists; name a file that does not exist (it was left as it is)');
    await symlink(path.join(dir, 'nowhere'), path.join(dir, 'link.zip'));
    await expect(refuseExisting(path.join(dir, 'link.zip'), '--out link.zip')).rejects.toThrow('already exists');
    await expect(refuseExisting(path.join(dir, 'none', 'out.zip'), '--out none/out.zip')).rejects.toThrow(`--out none/out.zip: there is no directory ${path.join(dir, 'none')} to write it in`);
  });
});
