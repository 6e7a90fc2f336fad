import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { openDatabase } from './db.js';

/** A store that cannot be opened says why in an operator's terms, and is left as it was. */
describe('openDatabase on SQLite, when the file is not a usable database', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-open-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a file that is no SQLite database without changing a byte of it', async () => {
    const file = path.join(dir, 'wa-bridge.sqlite');
    const bytes = randomBytes(8192);
    await writeFile(file, bytes);
    const opening = openDatabase({ kind: 'sqlite', file });
    await expect(opening).rejects.toThrow(`${file} is not a SQLite database, or its header is damaged; nothing was changed.`);
    expect((await readFile(file)).equals(bytes)).toBe(true);
  });

  it('names the data directory when the file cannot be created there', async () => {
    // A file where the data directory should be: nothing can be created under it.
    const notADirectory = path.join(dir, 'data');
    await writeFile(notADirectory, 'x');
    const error = await openDatabase({ kind: 'sqlite', file: path.join(notADirectory, 'wa-bridge.sqlite') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`WA_BRIDGE_DATA_DIR: cannot open ${path.join(notADirectory, 'wa-bridge.sqlite')} for writing (EEXIST); the data directory must be a directory this user can write`);
  });
});
