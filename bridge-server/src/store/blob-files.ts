import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import { NotFoundError } from '../core/errors.js';
import { sha256 } from '../core/ids.js';
import type { BlobStore } from '../core/ports.js';
import type { BlobCipher } from './blob-cipher.js';

/** Threads of one process keep separate counters, so their temporary names must differ too. */
const threadTag = isMainThread ? '' : `t${threadId}.`;

/**
 * Content-addressed files under <data dir>/blobs/<aa>/<sha256>: one level of 256 directories keeps
 * a few thousand files per directory at a million blobs. A blob is written to a
 * temporary name and renamed into place, so a reader never sees a half-written file. A write that
 * fails (a full disk: ENOSPC) removes its temporary file before the error goes on, so only a crash
 * can leave a stray one.
 */
export class FileBlobStore implements BlobStore {
  /** Directories known to exist, so a put costs no mkdir once its fan-out directory is made. */
  private readonly madeDirs = new Set<string>();
  private tempCounter = 0;

  /** `cipher`: seal blobs at rest (and open sealed ones); without it files hold the plain bytes. */
  constructor(
    private readonly root: string,
    private readonly cipher?: BlobCipher,
  ) {}

  pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new TypeError('not a sha256 hex digest');
    return path.join(this.root, hash.slice(0, 2), hash);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes).toString('hex');
    const file = this.pathOf(hash);
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    // Same name, same bytes: renaming over an existing copy changes nothing, so no existence check.
    const temp = `${file}.${process.pid}.${threadTag}${(this.tempCounter += 1)}.tmp`;
    try {
      await writeFile(temp, this.cipher ? this.cipher.seal(bytes, hash) : bytes);
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
    return hash;
  }

  /**
   * put() with blocking file calls, for a worker thread whose only job is this: four file
   * operations cost a thread that may block nothing, where each would be a round trip through
   * the thread pool from the main thread.
   */
  putSync(bytes: Uint8Array): string {
    const hash = sha256(bytes).toString('hex');
    const file = this.pathOf(hash);
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    const temp = `${file}.${process.pid}.${threadTag}${(this.tempCounter += 1)}.tmp`;
    try {
      writeFileSync(temp, this.cipher ? this.cipher.seal(bytes, hash) : bytes);
      renameSync(temp, file);
    } catch (error) {
      try {
        rmSync(temp, { force: true });
      } catch {
        // The write's own error is the one worth reporting.
      }
      throw error;
    }
    return hash;
  }

  async get(hash: string): Promise<Buffer> {
    try {
      const stored = await readFile(this.pathOf(hash));
      return this.cipher ? this.cipher.open(stored, hash) : stored;
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
