import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import BetterSqlite3 from 'better-sqlite3';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ZipFile as ZipWriter } from 'yazl';
import type { AuditTrail } from '../core/audit.js';
import { BadInputError, ConfigError, isBridgeError } from '../core/errors.js';
import { blobCipher, type BlobKeys } from '../store/blob-cipher.js';
import { configuredStore, InlineBlobStore } from '../store/blob-inline.js';
import { FileMediaStore, type MediaBlobStore } from '../store/blob-store.js';
import { openSealedFile, sealFile, unwrapKey, type MasterKey } from './crypto.js';
import { repeatHere, type Repeat, type Schedule } from './schedule.js';
import type { Executor } from '../store/executor.js';
import { snapshotToSqlite } from '../store/snapshot.js';

/**
 * Backups: a consistent copy of the database taken with SQLite's online backup (the bridge keeps
 * running and writing), plus every blob the copy lists and does not hold in its rows, zipped and
 * sealed with AES-256-GCM under the master key. Blobs are content-addressed and never change, so copying them after the
 * database snapshot is consistent; one removed by retention in between is reported. Blobs come
 * from the configured store: files are copied as they are, objects in a bucket are read one at a
 * time as the zip is written; either way a blob goes in as stored (sealed when sealed).
 */

/**
 * What a backup copies: the SQLite file itself (with SQLite's online backup), or an open
 * PostgreSQL store, copied table by table into the same SQLite format.
 */
export type BackupSource = { kind: 'sqlite'; file: string } | { kind: 'postgres'; db: Executor };

export const backupPattern = /^wa-bridge-backup-(\d{8}T\d{9}Z)\.wabk$/;

/**
 * A backup being made leaves `<its file name>.running` in the directory it is written to, from its
 * start until it ends however it ends, and touches it every HEARTBEAT_MS: the bridge's health
 * (archiveTasks) can then tell a backup still running, by this process, the CLI or another
 * instance sharing the directory, from one that is late. A marker untouched for STALE_AFTER_MS
 * is left by a process that died; it counts for nothing and the next backup there removes it.
 */
const runningPattern = /^wa-bridge-backup-(\d{8}T\d{9}Z)\.wabk\.running$/;
export const HEARTBEAT_MS = 30_000;
export const STALE_AFTER_MS = 4 * HEARTBEAT_MS;

/** The time a backup's name holds (UTC to the millisecond) and back. */
const stampOf = (at: number): string => new Date(at).toISOString().replace(/[-:.]/g, '');
const timeOf = (stamp: string): number =>
  Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}.${stamp.slice(15, 18)}Z`);

/** The running markers in `dir` with their start (from the name) and last heartbeat (mtime). */
async function runningMarkers(dir: string): Promise<Array<{ name: string; startedAt: number; touchedAt: number }>> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => runningPattern.test(name));
  const found = await Promise.all(
    names.map(async (name) => {
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      return info && { name, startedAt: timeOf(name.match(runningPattern)![1]!), touchedAt: info.mtimeMs };
    }),
  );
  return found.filter((marker) => marker !== undefined);
}

/**
 * When the newest backup still running into `dir` started (one whose marker was touched within
 * STALE_AFTER_MS of `now`), or undefined when none is.
 */
export async function runningBackupSince(dir: string, now = Date.now()): Promise<number | undefined> {
  const live = (await runningMarkers(dir)).filter((marker) => now - marker.touchedAt <= STALE_AFTER_MS);
  return live.length === 0 ? undefined : Math.max(...live.map((marker) => marker.startedAt));
}

/**
 * Marks a backup as running until the returned function is called: writes the marker (never over
 * another's) and touches it every HEARTBEAT_MS. Markers left stale by a process that died go.
 */
async function markRunning(file: string): Promise<() => Promise<void>> {
  const dir = path.dirname(file);
  const now = Date.now();
  for (const marker of await runningMarkers(dir)) {
    if (now - marker.touchedAt > STALE_AFTER_MS) await rm(path.join(dir, marker.name), { force: true });
  }
  const marker = `${file}.running`;
  await writeFile(marker, `${JSON.stringify({ host: hostname(), pid: process.pid })}\n`, { flag: 'wx', mode: 0o600 });
  const heartbeat = setInterval(() => {
    const at = new Date();
    utimes(marker, at, at).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    await rm(marker, { force: true });
  };
}

export interface BackupResult {
  file: string;
  conversations: number;
  events: number;
  blobs: number;
  bytes: number;
}

/**
 * How far a backup is: `snapshot`, the consistent copy of the database (in pages of SQLite's
 * online backup, or in rows of a PostgreSQL store); then in bytes, `packing` the database copy
 * and the blobs into the zip (`total` is what they hold as stored, which the zip's compression of
 * the database may leave short of), and `encrypting` the zip.
 */
export type BackupProgress = (phase: 'snapshot' | 'packing' | 'encrypting', done: number, total: number) => void;

export async function makeBackup(options: { source: BackupSource; blobs: MediaBlobStore; master: MasterKey; outDir: string; now?: number; onProgress?: BackupProgress }): Promise<BackupResult> {
  const now = options.now ?? Date.now();
  await mkdir(options.outDir, { recursive: true, mode: 0o700 });
  // UTC time to the millisecond: names sort by age and two backups never share one.
  const file = path.join(options.outDir, `wa-bridge-backup-${stampOf(now)}.wabk`);
  const unmark = await markRunning(file);
  const scratch = await mkdtemp(path.join(tmpdir(), 'wab-backup-')).catch(async (error: unknown) => {
    await unmark();
    throw error;
  });
  try {
    const snapshot = path.join(scratch, 'database.sqlite');
    if (options.source.kind === 'sqlite') {
      const source = new BetterSqlite3(options.source.file, { readonly: true, fileMustExist: true });
      source.pragma('busy_timeout = 5000');
      try {
        // 100 pages a step, better-sqlite3's default; the last step calls no progress function.
        const copied = await source.backup(snapshot, {
          progress: ({ totalPages, remainingPages }) => {
            options.onProgress?.('snapshot', totalPages - remainingPages, totalPages);
            return 100;
          },
        });
        options.onProgress?.('snapshot', copied.totalPages, copied.totalPages);
      } finally {
        source.close();
      }
    } else {
      await snapshotToSqlite(options.source.db, snapshot, (done, total) => options.onProgress?.('snapshot', done, total));
    }
    const copy = new BetterSqlite3(snapshot, { readonly: true });
    let hashes: string[];
    // The blobs' plaintext sizes: what they take in the zip, give or take their sealing.
    let blobBytes: number;
    let blobCount: number;
    let conversations: number;
    let events: number;
    let dataKeys: BlobKeys | undefined;
    try {
      // Blobs whose rows keep their bytes travel inside the database copy; the others are copied.
      const listed = copy.prepare('SELECT sha256, size FROM blobs WHERE content IS NULL ORDER BY sha256').all() as Array<{ sha256: string; size: number }>;
      hashes = listed.map((row) => row.sha256);
      blobBytes = listed.reduce((sum, row) => sum + Number(row.size), 0);
      blobCount = (copy.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n;
      conversations = (copy.prepare('SELECT count(*) AS n FROM conversations').get() as { n: number }).n;
      events = (copy.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      dataKeys = readDataKeys(copy, options.master);
    } finally {
      copy.close();
    }
    const zip = new ZipWriter();
    // The data keys of sealed blobs travel unwrapped inside the sealed backup: the backup's own
    // key protects them, so rotating the master key later (which re-wraps only the backup's
    // header) leaves them readable.
    if (dataKeys) zip.addBuffer(Buffer.from(JSON.stringify({ activeId: dataKeys.activeId, keys: dataKeys.keys.map(([id, key]) => [id, Buffer.from(key).toString('base64')]) })), 'data-keys.json');
    const manifest = { format: 'wa-bridge-backup/1', createdAt: new Date(now).toISOString(), host: hostname(), conversations, events, blobs: blobCount };
    zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'backup.json');
    zip.addFile(snapshot, 'database.sqlite');
    const vanished = (hash: string) =>
      new BadInputError('blob_vanished', `blob ${hash.slice(0, 12)}… is listed but is gone from the blob store (removed by retention while the backup ran, or lost); run the backup again, then wa-bridge verify`);
    const blobs = configuredStore(options.blobs);
    for (const hash of hashes) {
      const name = `blobs/${hash.slice(0, 2)}/${hash}`;
      if (blobs instanceof FileMediaStore) {
        const file = blobs.pathOf(hash);
        try {
          await stat(file);
        } catch {
          throw vanished(hash);
        }
        zip.addFile(file, name, { compress: false });
      } else {
        // Fetched when the zip reaches it, so one blob at a time is held.
        zip.addReadStreamLazy(name, { compress: false }, (done) => {
          blobs.readStored(hash).then(
            (bytes) => done(null, Readable.from([bytes])),
            (error: unknown) => done(isBridgeError(error) && error.code === 'not_found' ? vanished(hash) : (error as Error), undefined as unknown as Readable),
          );
        });
      }
    }
    zip.once('error', (error: Error) => (zip.outputStream as Readable).destroy(error));
    zip.end();
    const plain = path.join(scratch, 'backup.zip');
    const packing = (await stat(snapshot)).size + blobBytes;
    await pipeline(zip.outputStream, counting((done) => options.onProgress?.('packing', Math.min(done, packing), packing)), createWriteStream(plain, { mode: 0o600 }));
    options.onProgress?.('packing', packing, packing);
    try {
      await sealFile(options.master, plain, `${file}.partial`, 'backup', (done, total) => options.onProgress?.('encrypting', done, total));
      await rename(`${file}.partial`, file);
    } catch (error) {
      await rm(`${file}.partial`, { force: true });
      throw error;
    }
    return { file, conversations, events, blobs: blobCount, bytes: (await stat(file)).size };
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await unmark();
  }
}

/** A stream passing bytes on unchanged, telling `seen` how many have passed so far. */
function counting(seen: (bytes: number) => void): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      try {
        seen(bytes);
      } catch (error) {
        // A progress display that fails ends the backup with its error, rather than leaving it hanging.
        done(error as Error);
        return;
      }
      done(null, chunk);
    },
  });
}

/** Removes all but the newest `keep` backups in `dir` (by the time in their names). */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => backupPattern.test(name)).sort();
  const old = names.slice(0, Math.max(0, names.length - keep));
  for (const name of old) await rm(path.join(dir, name), { force: true });
  return old;
}

export interface OpenedBackup {
  /** A scratch directory holding database.sqlite and blobs/, like a data dir. */
  dir: string;
  manifest: { createdAt: string; conversations: number; events: number; blobs: number };
  /**
   * The backup's blobs, opened with the data keys it carries (sealed or not): those its database
   * copy keeps in their rows (read through `db`, the copy opened), and the files beside it.
   */
  blobsIn(db: Executor): InlineBlobStore;
  close(): Promise<void>;
}

/** Decrypts and unpacks a backup into a private scratch directory; the caller closes it. */
export async function openBackup(master: MasterKey, file: string): Promise<OpenedBackup> {
  const found = await stat(file).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BadInputError('no_backup', `${file}: ${code === 'ENOENT' ? 'no such backup file' : `cannot be read (${code ?? String(error)})`}`);
  });
  if (!found.isFile()) throw new BadInputError('no_backup', `${file}: not a backup file (a backup is one wa-bridge-backup-*.wabk file)`);
  const dir = await mkdtemp(path.join(tmpdir(), 'wab-restore-'));
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    const plain = path.join(dir, 'backup.zip');
    const { kind } = await openSealedFile(master, file, plain);
    if (kind !== 'backup') throw new BadInputError('not_backup', `${file} is a sealed ${kind}, not a backup`);
    const zip = await new Promise<ZipFile>((resolve, reject) => yauzl.open(plain, { lazyEntries: true, autoClose: false }, (error, z) => (error ? reject(error) : resolve(z))));
    try {
      await extract(zip, dir);
    } finally {
      zip.close();
    }
    await rm(plain);
    const manifest = JSON.parse(await readFile(path.join(dir, 'backup.json'), 'utf8')) as OpenedBackup['manifest'];
    const keysFile = await readFile(path.join(dir, 'data-keys.json'), 'utf8').catch(() => undefined);
    const stored = keysFile === undefined ? undefined : (JSON.parse(keysFile) as { activeId: string; keys: Array<[string, string]> });
    const keys: BlobKeys | undefined = stored && { activeId: stored.activeId, keys: stored.keys.map(([id, key]) => [id, Buffer.from(key, 'base64')]) };
    const cipher = keys ? blobCipher(keys, { seal: false }) : undefined;
    const files = new FileMediaStore(path.join(dir, 'blobs'), cipher, false);
    return { dir, manifest, blobsIn: (db) => new InlineBlobStore(db, files, cipher), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Only the names a backup has; anything else means the file is not one of ours. */
const entryName = /^(backup\.json|data-keys\.json|database\.sqlite|blobs\/[0-9a-f]{2}\/[0-9a-f]{64})$/;

function extract(zip: ZipFile, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    zip.on('entry', (entry: Entry) => {
      if (!entryName.test(entry.fileName)) {
        reject(new BadInputError('not_backup', `the backup holds an unexpected entry ${JSON.stringify(entry.fileName)}`));
        return;
      }
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const target = path.join(dir, entry.fileName);
        mkdir(path.dirname(target), { recursive: true })
          .then(() => pipeline(stream, createWriteStream(target, { mode: 0o600 })))
          // Blobs are checked against their names by whoever reads them (they may be sealed).
          .then(() => zip.readEntry(), reject);
      });
    });
    zip.once('end', () => resolve());
    zip.once('error', reject);
    zip.readEntry();
  });
}


const day = 24 * 3_600_000;

/** The time in the newest backup's name in `dir`, or undefined when there is none. */
export async function newestBackupAt(dir: string): Promise<number | undefined> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => backupPattern.test(name)).sort();
  const stamp = names.at(-1)?.match(backupPattern)?.[1];
  return stamp ? timeOf(stamp) : undefined;
}

/**
 * A backup a day in the bridge (at start when the newest is a day old), keeping the newest `keep`;
 * not while another backup is being made into the same directory (by the CLI, say).
 */
export function scheduleBackups(options: { source: BackupSource; blobs: MediaBlobStore; master: MasterKey; dir: string; keep: number; audit: AuditTrail; onError: (error: Error) => void; repeat?: Repeat }): Schedule {
  return (options.repeat ?? repeatHere)('backup', {
    intervalMs: day,
    isDue: async () => {
      if ((await runningBackupSince(options.dir)) !== undefined) return false;
      const newest = await newestBackupAt(options.dir);
      return newest === undefined || Date.now() - newest >= day;
    },
    run: async () => {
      const result = await makeBackup({ source: options.source, blobs: options.blobs, master: options.master, outDir: options.dir });
      const pruned = await pruneBackups(options.dir, options.keep);
      await options.audit.record({ actor: 'system', source: `bridge@${hostname()}`, action: 'backup', target: `backup:${path.basename(result.file)}`, details: { conversations: result.conversations, events: result.events, blobs: result.blobs, bytes: result.bytes, pruned: pruned.length } });
    },
    onError: options.onError,
  });
}

/** The snapshot's data keys, unwrapped with the master key; undefined when blobs were never sealed. */
function readDataKeys(db: BetterSqlite3.Database, master: MasterKey): BlobKeys | undefined {
  const rows = db.prepare('SELECT id, wrapped, master_key_id, active FROM data_keys ORDER BY created_at').all() as Array<{ id: string; wrapped: string; master_key_id: string; active: number }>;
  if (rows.length === 0) return undefined;
  const keys: BlobKeys['keys'] = rows.map((row) => {
    if (row.master_key_id !== master.id) throw new BadInputError('wrong_key', `data key ${row.id} is wrapped under master key ${row.master_key_id}, not the configured ${master.id}`);
    return [row.id, unwrapKey(master, row.wrapped)];
  });
  return { activeId: (rows.find((row) => row.active === 1) ?? rows.at(-1)!).id, keys };
}

/**
 * WA_BRIDGE_BACKUP_DIR must be there already: a backup disk that is not mounted would otherwise
 * have the backups written onto the machine's own disk, beside what they are meant to protect.
 * (A directory named on the command line with --out-dir is made if need be.)
 */
export async function refuseMissingBackupDir(dir: string): Promise<void> {
  const found = await stat(dir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!found) throw new ConfigError(`WA_BRIDGE_BACKUP_DIR: ${dir} is not a directory that exists (a backup disk that is not mounted?); create or mount it, on another disk than the data dir`);
}
