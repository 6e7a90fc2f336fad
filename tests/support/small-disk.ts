import { execFile } from 'node:child_process';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A small disk of its own at a directory: a tmpfs of `sizeBytes` mounted there (root only, as
 * the test machine runs its suites). Lets a test fill a real file system and watch writes fail with
 * ENOSPC, then free it again.
 */
export interface SmallDisk {
  readonly dir: string;
  /** Bytes a new file can still take. */
  free(): Promise<number>;
  /** Writes a filler file so that about `leftBytes` stay free. */
  fillLeaving(leftBytes: number): Promise<void>;
  /** Removes the filler. */
  release(): Promise<void>;
  /** Unmounts (lazily if something still holds it open). Safe to call twice. */
  unmount(): Promise<void>;
}

/** True when this process may mount file systems (the tests run as root on the test machine). */
export const canMount = process.getuid?.() === 0 && process.platform === 'linux';

export async function mountSmallDisk(dir: string, sizeBytes: number): Promise<SmallDisk> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir]);
  let mounted = true;
  // Outside the blob store's fan-out directories (two hex digits), so nothing takes it for a blob.
  const filler = path.join(dir, 'filler.bin');
  const free = async () => {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  };
  return {
    dir,
    free,
    async fillLeaving(leftBytes) {
      const size = (await free()) - leftBytes;
      if (size > 0) await writeFile(filler, Buffer.alloc(size));
    },
    async release() {
      await rm(filler, { force: true });
    },
    async unmount() {
      if (!mounted) return;
      try {
        await run('umount', [dir]);
      } catch {
        await run('umount', ['-l', dir]);
      }
      mounted = false;
    },
  };
}
