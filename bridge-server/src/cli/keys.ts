import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadMasterKey, readSealedHeader, rewrapSealedFile, unwrapKey, type MasterKey } from '../archive/crypto.js';
import { loadBlobKeys, rewrapDataKeys } from '../archive/keyring.js';
import { loadConfig } from '../config/load.js';
import { BadInputError } from '../core/errors.js';
import { SqlAuditTrail } from '../store/audit.js';
import { openExistingDatabase, type OpenedDatabase } from '../store/db.js';
import { recordCli } from './audit.js';
import { runCommand } from './run.js';

/**
 * `wa-bridge keys rotate`: a new master key, the data keys of the stored media and of every backup
 * re-wrapped under it. `wa-bridge keys rewrap`: backups still under an earlier master key (copies
 * held elsewhere) re-wrapped under the current one. Everything that can be checked is checked
 * before anything changes; a rotation that fails midway is undone.
 */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Encryption keys of the backups.');
  keys
    .command('rotate')
    .description('Make a new master key and re-wrap the data keys of the stored media and of every backup under it (nothing is re-encrypted). Every backup must be under the current key; if any step fails, what was done is undone.')
    .option('--backup-dir <dirs...>', 'directories of backups to re-wrap (default WA_BRIDGE_BACKUP_DIR)')
    .action((options: { backupDir?: string[] }) => runCommand(() => rotateMasterKey(options.backupDir)));
  keys
    .command('rewrap')
    .description('Re-wrap backups still sealed under an earlier master key (copies held elsewhere when keys rotate ran) under the current one; backups already under it are skipped, and one under any other key stops the command before anything changes.')
    .requiredOption('--old-key-file <file>', 'the earlier master key, as keys rotate kept it (keys/master-<id>.key.old)')
    .requiredOption('--backup-dir <dirs...>', 'directories of backups (wa-bridge-backup-*.wabk) to re-wrap')
    .action((options: { oldKeyFile: string; backupDir: string[] }) => runCommand(() => rewrapBackups(options.oldKeyFile, options.backupDir)));
}

const unchanged = 'nothing was changed';

/** A backup and the master key its header names. */
interface Backup {
  file: string;
  masterKeyId: string;
  wrappedKey: string;
}

/** Every backup in the directories, headers read; a directory that cannot be read and written is refused. */
async function findBackups(dirs: ReadonlyArray<{ dir: string; label: string }>): Promise<Backup[]> {
  // The backup module (and what it loads) only when there is something to look at.
  const { backupPattern } = await import('../archive/backup.js');
  const found: Backup[] = [];
  for (const { dir, label } of dirs) {
    let names: string[];
    try {
      // Re-wrapping writes each file anew beside itself, so the directory must take writes too.
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      names = await readdir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : `cannot be read and written (${code ?? String(error)})`;
      throw new BadInputError('bad_backup_dir', `${label} ${dir}: ${why}; ${unchanged}`);
    }
    for (const name of names.filter((n) => backupPattern.test(n)).sort()) {
      const file = path.join(dir, name);
      const { header } = await readSealedHeader(file).catch((error: unknown) => {
        throw new BadInputError('not_sealed', `${error instanceof Error ? error.message : String(error)}; ${unchanged}`);
      });
      found.push({ file, masterKeyId: header.masterKeyId, wrappedKey: header.wrappedKey });
    }
  }
  return found;
}

/** Throws unless `master` opens the backup's data key. */
function checkOpens(master: MasterKey, backup: Backup): void {
  try {
    unwrapKey(master, backup.wrappedKey);
  } catch {
    throw new BadInputError('wrong_key', `${backup.file}: master key ${master.id} does not open its data key (the header was altered); ${unchanged}`);
  }
}

/** A master key from a key file (base64 of 32 bytes, as keys/master.key holds it). */
async function readKeyFile(file: string, option: string): Promise<MasterKey> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new BadInputError('bad_key_file', `${option} ${file}: cannot be read`);
  });
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== 32) throw new BadInputError('bad_key_file', `${option} ${file}: expected a master key (32 random bytes, base64), as keys rotate keeps it`);
  return loadMasterKey('', bytes.toString('base64'));
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function rotateMasterKey(backupDirs: string[] | undefined): Promise<void> {
  const config = loadConfig();
  const current = loadMasterKey(config.dataDir, config.masterKey);
  const dirs = backupDirs?.map((dir) => ({ dir, label: '--backup-dir' })) ?? (config.backups ? [{ dir: config.backups.dir, label: 'WA_BRIDGE_BACKUP_DIR' }] : []);
  const keyDir = path.join(config.dataDir, 'keys');
  const keyFile = path.join(keyDir, 'master.key');
  const next = loadMasterKey('', randomBytes(32).toString('base64'));
  const pending = path.join(keyDir, `master-${next.id}.key.new`);
  const kept = path.join(keyDir, `master-${current.id}.key.old`);

  // Checked before anything changes: every backup and every data key is under the current key.
  const backups = await findBackups(dirs);
  for (const backup of backups) {
    if (backup.masterKeyId !== current.id) {
      throw new BadInputError('wrong_key', `${backup.file} is sealed under master key ${backup.masterKeyId}, not the current key ${current.id}: re-wrap it first (wa-bridge keys rewrap --old-key-file FILE --backup-dir DIR) or move it out; ${unchanged}`);
    }
    checkOpens(current, backup);
  }
  const opened = await openExistingDatabase(config.database);
  try {
    await loadBlobKeys(opened.db, current, false).catch((error: unknown) => {
      throw new BadInputError('wrong_key', `the database's data keys do not open with the current master key ${current.id} (${messageOf(error)}); ${unchanged}`);
    });

    // The new key is on disk before anything is wrapped under it, so a crash midway loses nothing.
    const done = { pending: false, database: false, backups: [] as string[], keyFileMoved: false };
    let dataKeys = 0;
    try {
      await writeFile(pending, `${next.key.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
      done.pending = true;
      dataKeys = await rewrapDataKeys(opened.db, current, next);
      done.database = true;
      for (const backup of backups) {
        await rewrapSealedFile(current, next, backup.file);
        done.backups.push(backup.file);
      }
      if (config.masterKey === undefined) {
        // The old key is kept beside the new one until every copy of every backup is re-wrapped.
        await rename(keyFile, kept);
        done.keyFileMoved = true;
        await rename(pending, keyFile);
      }
    } catch (error) {
      throw await undoRotation({ opened, current, next, pending, keyFile, kept, envKey: config.masterKey !== undefined }, done, messageOf(error));
    }

    const audited = await recordCli(new SqlAuditTrail(opened.db), { action: 'config.change', target: 'master-key', details: { from: current.id, to: next.id, dataKeysRewrapped: dataKeys, backupsRewrapped: done.backups.length } }).then(
      () => undefined,
      (error: unknown) => messageOf(error),
    );
    process.stdout.write(`master key ${current.id} -> ${next.id}: ${dataKeys} data key(s) and ${done.backups.length} backup(s) re-wrapped\n`);
    process.stdout.write(
      config.masterKey === undefined
        ? `the new key is in ${keyFile}; the old one was kept as ${path.basename(kept)}: re-wrap copies held elsewhere (wa-bridge keys rewrap --old-key-file ${kept} --backup-dir DIR), then destroy it\n`
        : `set WA_BRIDGE_MASTER_KEY to the contents of ${pending}, restart the bridge, then delete that file\n`,
    );
    if (audited !== undefined) throw new Error(`the rotation is done, but its audit entry could not be written: ${audited}`);
  } finally {
    await opened.close();
  }
}

interface Rotation {
  opened: OpenedDatabase;
  current: MasterKey;
  next: MasterKey;
  pending: string;
  keyFile: string;
  kept: string;
  /** The current key comes from WA_BRIDGE_MASTER_KEY, not from keyFile. */
  envKey: boolean;
}

/**
 * Puts back what a failed rotation did, in reverse, and returns the error to report: that nothing
 * was changed, or, when some of it could not be put back, which key file now opens what.
 */
async function undoRotation(rotation: Rotation, done: { pending: boolean; database: boolean; backups: string[]; keyFileMoved: boolean }, reason: string): Promise<Error> {
  const { opened, current, next, pending, keyFile, kept } = rotation;
  const problems: string[] = [];
  if (done.keyFileMoved) {
    await rename(kept, keyFile).then(
      () => (done.keyFileMoved = false),
      (error: unknown) => problems.push(`moving ${kept} back to ${keyFile}: ${messageOf(error)}`),
    );
  }
  for (const file of [...done.backups].reverse()) {
    await rewrapSealedFile(next, current, file).then(
      () => done.backups.splice(done.backups.indexOf(file), 1),
      (error: unknown) => problems.push(`re-wrapping ${file} back: ${messageOf(error)}`),
    );
  }
  if (done.database) {
    await rewrapDataKeys(opened.db, next, current).then(
      () => (done.database = false),
      (error: unknown) => problems.push(`re-wrapping the database's data keys back: ${messageOf(error)}`),
    );
  }
  if (problems.length === 0) {
    // Nothing is under the new key any more: its file would only mislead.
    if (done.pending) await rm(pending, { force: true }).catch(() => undefined);
    return new Error(`master key not rotated, ${unchanged} (the database and every backup are under key ${current.id}, as before): ${reason}`);
  }
  const underNext = [...(done.database ? ["the database's data keys"] : []), ...done.backups];
  const currentAt = rotation.envKey ? 'WA_BRIDGE_MASTER_KEY' : done.keyFileMoved ? kept : keyFile;
  // Backups alone are what `keys rewrap` puts right, once the current key is where it was.
  const remedy = !done.database && !done.keyFileMoved ? `; wa-bridge keys rewrap --old-key-file ${pending} --backup-dir DIR puts those back under key ${current.id}` : '; keep both until this is put right';
  return new Error(
    `master key rotation failed (${reason}) and could not be wholly undone (${problems.join('; ')}): ` +
      `${pending} (key ${next.id}) now opens ${underNext.join(', ')}; ${currentAt} (key ${current.id}) opens everything else${remedy}`,
  );
}

async function rewrapBackups(oldKeyFile: string, backupDirs: string[]): Promise<void> {
  const config = loadConfig();
  const current = loadMasterKey(config.dataDir, config.masterKey);
  const old = await readKeyFile(oldKeyFile, '--old-key-file');
  if (old.id === current.id) throw new BadInputError('bad_key_file', `--old-key-file ${oldKeyFile}: that is the current master key (${current.id}); name the earlier one`);
  const backups = await findBackups(backupDirs.map((dir) => ({ dir, label: '--backup-dir' })));
  const todo: Backup[] = [];
  for (const backup of backups) {
    if (backup.masterKeyId === current.id) continue;
    if (backup.masterKeyId !== old.id) {
      throw new BadInputError('wrong_key', `${backup.file} is sealed under master key ${backup.masterKeyId}, which is neither the current key (${current.id}) nor that of --old-key-file (${old.id}); ${unchanged}`);
    }
    checkOpens(old, backup);
    todo.push(backup);
  }
  const opened = await openExistingDatabase(config.database);
  try {
    let rewrapped = 0;
    for (const backup of todo) {
      try {
        await rewrapSealedFile(old, current, backup.file);
      } catch (error) {
        // Each file is replaced whole, so the rest are still under the old key: a second run finishes.
        throw new Error(`${backup.file}: ${messageOf(error)}; ${rewrapped} of ${todo.length} backup(s) were re-wrapped before it, the rest are still under key ${old.id}: run the command again to finish`, { cause: error });
      }
      rewrapped += 1;
    }
    await recordCli(new SqlAuditTrail(opened.db), { action: 'config.change', target: 'master-key', details: { rewrapFrom: old.id, to: current.id, backupsRewrapped: rewrapped, directories: backupDirs.join(',') } });
    process.stdout.write(`${rewrapped} backup(s) re-wrapped from master key ${old.id} to ${current.id}; ${backups.length - todo.length} already under it\n`);
    if (rewrapped > 0) process.stdout.write(`once every copy held elsewhere is re-wrapped too, destroy ${oldKeyFile}\n`);
  } finally {
    await opened.close();
  }
}
