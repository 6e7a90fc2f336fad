import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScratchFile } from './scratch-file.js';

describe('ScratchFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-scratch-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds exactly what was written, in order, with its SHA-256 and size in bytes', async () => {
    const parts = Array.from({ length: 30_000 }, (_, i) => `{"seq":${i},"text":"Ünïcödé ✓ 日本語 line ${i}"}\n`);
    const file = new ScratchFile(path.join(dir, 'events'));
    for (const part of parts) await file.write(part);
    const written = await file.close();
    const expected = Buffer.from(parts.join(''), 'utf8');
    expect(expected.length).toBeGreaterThan(1 << 20);
    // Buffer.equals, not toEqual: vitest's deep equality walks a buffer byte by byte, some 6 s for
    // these 1.3 MB; this is the same exact comparison.
    expect((await readFile(file.file)).equals(expected), 'the file holds other bytes than were written').toBe(true);
    expect(written).toEqual({ sha256: createHash('sha256').update(expected).digest('hex'), size: expected.length });
  });

  it('gives an empty file for no writes, and never writes over a file that exists', async () => {
    const empty = new ScratchFile(path.join(dir, 'empty'));
    expect(await empty.close()).toEqual({ sha256: createHash('sha256').digest('hex'), size: 0 });
    await writeFile(path.join(dir, 'taken'), 'kept');
    const taken = new ScratchFile(path.join(dir, 'taken'));
    await expect(taken.write('x'.repeat(2 << 20))).rejects.toThrow(/EEXIST/);
    taken.abort();
    expect(await readFile(path.join(dir, 'taken'), 'utf8')).toBe('kept');
  });
});
