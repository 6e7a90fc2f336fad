import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../core/errors.js';
import { sha256 } from '../core/ids.js';
import type { BlobStore } from '../core/ports.js';

/**
 * Content-addressed files under <data dir>/blobs/<aa>/<bb>/<sha256>. A blob is written to a
 * temporary name and renamed into place, so a reader never sees a half-written file and a crash
 * leaves at most a stray temporary file.
 */
export class FileBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new TypeError('not a sha256 hex digest');
    return path.join(this.root, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes).toString('hex');
    const file = this.pathOf(hash);
    if (await this.has(hash)) return hash;
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, file);
    return hash;
  }

  async get(hash: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(hash));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`blob ${hash.slice(0, 12)}… is not in the blob store`);
      throw error;
    }
  }

  async has(hash: string): Promise<boolean> {
    try {
      await stat(this.pathOf(hash));
      return true;
    } catch {
      return false;
    }
  }
}
