import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/db.js';
import { FileMediaStore } from '../store/blob-store.js';
import { makeBackup, runningBackupSince, scheduleBackups, STALE_AFTER_MS } from './backup.js';
import { loadMasterKey } from './crypto.js';
import type { RepeatingTask } from './schedule.js';

const marker = (dir: string, at: string) => path.join(dir, `wa-bridge-backup-${at}.wabk.running`);

/** A marker whose last heartbeat was `ageMs` before `now`. */
async function placeMarker(dir: string, stamp: string, now: number, ageMs: number): Promise<void> {
  const file = marker(dir, stamp);
  await writeFile(file, '{}\n');
  const touched = new Date(now - ageMs);
  await utimes(file, touched, touched);
}

describe('a backup still running', () => {
  let dataDir: string;
  let outDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-running-data-'));
    outDir = await mkdtemp(path.join(tmpdir(), 'wab-running-out-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
  });

  it('is found from a marker touched lately, the newest start when there are two; a stale one counts for nothing', async () => {
    const now = Date.parse('2026-11-30T03:30:00Z');
    expect(await runningBackupSince(outDir, now)).toBeUndefined();
    await placeMarker(outDir, '20261130T030000000Z', now, STALE_AFTER_MS + 1_000);
    expect(await runningBackupSince(outDir, now)).toBeUndefined();
    await placeMarker(outDir, '20261130T020000000Z', now, 10_000);
    expect(await runningBackupSince(outDir, now)).toBe(Date.parse('2026-11-30T02:00:00Z'));
    await placeMarker(outDir, '20261130T031500000Z', now, 0);
    expect(await runningBackupSince(outDir, now)).toBe(Date.parse('2026-11-30T03:15:00Z'));
    expect(await runningBackupSince(path.join(outDir, 'missing'), now)).toBeUndefined();
  });

  it('is marked from its start until it ends, whether it succeeds or fails, and clears markers a dead process left', async () => {
    const file = path.join(dataDir, 'wa-bridge.sqlite');
    const opened = await openDatabase({ kind: 'sqlite', file });
    await opened.close();
    const master = loadMasterKey(dataDir);
    const blobs = new FileMediaStore(path.join(dataDir, 'blobs'));
    const stale = marker(outDir, '20261129T030000000Z');
    await placeMarker(outDir, '20261129T030000000Z', Date.now(), STALE_AFTER_MS + 60_000);
    const startedAt = Date.parse('2026-11-30T03:00:00.123Z');
    const own = marker(outDir, '20261130T030000123Z');
    // Looked at from inside the backup's own progress calls, in each phase.
    const seen = new Map<string, { own: boolean; stale: boolean }>();
    const result = await makeBackup({
      source: { kind: 'sqlite', file },
      blobs,
      master,
      outDir,
      now: startedAt,
      onProgress: (phase) => {
        if (!seen.has(phase)) seen.set(phase, { own: existsSync(own), stale: existsSync(stale) });
      },
    });
    expect(Object.fromEntries(seen)).toEqual({
      snapshot: { own: true, stale: false },
      packing: { own: true, stale: false },
      encrypting: { own: true, stale: false },
    });
    expect(path.basename(result.file)).toBe('wa-bridge-backup-20261130T030000123Z.wabk');
    expect(await readdir(outDir)).toEqual(['wa-bridge-backup-20261130T030000123Z.wabk']);

    // A blob the copy lists whose file is gone: the backup refuses, part way.
    const raw = new BetterSqlite3(file);
    raw.prepare('INSERT INTO blobs (sha256, size, created_at) VALUES (?, 10, 0)').run('ab'.repeat(32));
    raw.close();
    const failing = marker(outDir, '20261130T030200123Z');
    let markedWhileFailing = false;
    await expect(
      makeBackup({
        source: { kind: 'sqlite', file },
        blobs,
        master,
        outDir,
        now: startedAt + 120_000,
        onProgress: () => {
          markedWhileFailing ||= existsSync(failing);
        },
      }),
    ).rejects.toThrow(/is listed but is gone/);
    expect(markedWhileFailing).toBe(true);
    expect(await readdir(outDir)).toEqual(['wa-bridge-backup-20261130T030000123Z.wabk']);
  });

  it('ends with the error of a progress display that fails, unmarked and leaving nothing, rather than hanging', async () => {
    const file = path.join(dataDir, 'wa-bridge.sqlite');
    await (await openDatabase({ kind: 'sqlite', file })).close();
    for (const failIn of ['snapshot', 'packing', 'encrypting']) {
      await expect(
        makeBackup({
          source: { kind: 'sqlite', file },
          blobs: new FileMediaStore(path.join(dataDir, 'blobs')),
          master: loadMasterKey(dataDir),
          outDir,
          onProgress: (phase) => {
            if (phase === failIn) throw new Error(`the terminal went away in ${phase}`);
          },
        }),
      ).rejects.toThrow(`the terminal went away in ${failIn}`);
      expect(await readdir(outDir)).toEqual([]);
    }
  });

  it('keeps the scheduled backup from starting beside it in the same directory', async () => {
    let task: RepeatingTask | undefined;
    const schedule = scheduleBackups({
      source: { kind: 'sqlite', file: path.join(dataDir, 'wa-bridge.sqlite') },
      blobs: new FileMediaStore(path.join(dataDir, 'blobs')),
      master: loadMasterKey(dataDir),
      dir: outDir,
      keep: 7,
      audit: { record: async () => undefined } as never,
      onError: () => undefined,
      repeat: (_name, given) => {
        task = given;
        return { stop: async () => undefined };
      },
    });
    expect(await task!.isDue()).toBe(true);
    await placeMarker(outDir, '20261130T030000000Z', Date.now(), 5_000);
    expect(await task!.isDue()).toBe(false);
    await utimes(marker(outDir, '20261130T030000000Z'), new Date(Date.now() - STALE_AFTER_MS - 1_000), new Date(Date.now() - STALE_AFTER_MS - 1_000));
    expect(await task!.isDue()).toBe(true);
    await schedule.stop();
  });
});
