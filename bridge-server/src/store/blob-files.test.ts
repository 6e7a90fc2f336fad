import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../core/ids.js';
import { FileBlobStore } from './blob-files.js';

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

// /dev/full answers every write with ENOSPC: a temporary name linked to it is a write that finds
// the disk full, without a full disk.
describe.skipIf(!existsSync('/dev/full'))('FileBlobStore on a full disk', () => {
  let root: string;
  const bytes = Buffer.from('a scanned lease, 1 of 3');
  const hash = sha256(bytes).toString('hex');

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'wab-blobs-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Makes the store's first temporary file for `hash` a write to /dev/full. */
  async function fullDiskFor(store: FileBlobStore): Promise<void> {
    const file = store.pathOf(hash);
    await mkdir(path.dirname(file), { recursive: true });
    await symlink('/dev/full', `${file}.${process.pid}.${isMainThread ? '' : `t${threadId}.`}1.tmp`);
  }

  it('put() fails with ENOSPC and leaves no temporary file; the next put stores the blob', async () => {
    const store = new FileBlobStore(root);
    await fullDiskFor(store);
    await expect(store.put(bytes)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await filesUnder(root)).toEqual([]);
    expect(await store.has(hash)).toBe(false);

    expect(await store.put(bytes)).toBe(hash);
    expect(await filesUnder(root)).toEqual([path.join(hash.slice(0, 2), hash)]);
    expect((await store.get(hash)).equals(bytes)).toBe(true);
  });

  it('putSync() fails with ENOSPC and leaves no temporary file; the next put stores the blob', async () => {
    const store = new FileBlobStore(root);
    await fullDiskFor(store);
    expect(() => store.putSync(bytes)).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(await filesUnder(root)).toEqual([]);

    expect(store.putSync(bytes)).toBe(hash);
    expect(await filesUnder(root)).toEqual([path.join(hash.slice(0, 2), hash)]);
    expect((await store.get(hash)).equals(bytes)).toBe(true);
  });
});
