import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads a key file under <data dir>/keys, creating it with fresh random bytes on first use.
 * The file is written exclusively (flag wx), so two processes starting at once cannot end up
 * with different keys.
 */
export function loadOrCreateKey(dataDir: string, name: string, bytes = 32): Buffer {
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, `${name}.key`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, randomBytes(bytes).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}
