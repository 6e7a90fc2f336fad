import { randomBytes } from 'node:crypto';
import { readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadMasterKey, rewrapSealedFile, type MasterKey } from '../archive/crypto.js';
import { rewrapDataKeys } from '../archive/keyring.js';
import { loadConfig } from '../config/load.js';
import { SqlAuditTrail } from '../store/audit.js';
import { openDatabase } from '../store/db.js';
import { recordCli } from './audit.js';
import { runCommand } from './run.js';

/** `wa-bridge keys rotate`: a new master key, every backup's data key re-wrapped under it. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Encryption keys of the backups.');
  keys
    .command('rotate')
    .description('Make a new master key and re-wrap the data keys of the stored media and of every backup under it (nothing is re-encrypted).')
    .option('--backup-dir <dirs...>', 'directories of backups to re-wrap (default WA_BRIDGE_BACKUP_DIR)')
    .action((options: { backupDir?: string[] }) =>
      runCommand(async () => {
        const config = loadConfig();
        const current = loadMasterKey(config.dataDir, config.masterKey);
        const nextBytes = randomBytes(32);
        const next: MasterKey = loadMasterKeyFromBytes(nextBytes);
        const dirs = options.backupDir ?? (config.backups ? [config.backups.dir] : []);
        const keyDir = path.join(config.dataDir, 'keys');
        // The new key is on disk before anything is wrapped under it, so a crash midway loses nothing.
        const pending = path.join(keyDir, `master-${next.id}.key.new`);
        await writeFile(pending, `${nextBytes.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
        const live = await openDatabase(config.database);
        let dataKeys: number;
        try {
          dataKeys = await rewrapDataKeys(live.db, current, next);
        } finally {
          await live.close();
        }
        const { backupPattern } = await import('../archive/backup.js');
        let rewrapped = 0;
        for (const dir of dirs) {
          for (const name of (await readdir(dir)).filter((n) => backupPattern.test(n))) {
            if ((await rewrapSealedFile(current, next, path.join(dir, name))) === 'rewrapped') rewrapped += 1;
          }
        }
        if (config.masterKey === undefined) {
          // The old key is kept beside the new one until every copy of every backup is re-wrapped.
          await rename(path.join(keyDir, 'master.key'), path.join(keyDir, `master-${current.id}.key.old`));
          await rename(pending, path.join(keyDir, 'master.key'));
        }
        const opened = await openDatabase(config.database);
        try {
          await recordCli(new SqlAuditTrail(opened.db), { action: 'config.change', target: 'master-key', details: { from: current.id, to: next.id, dataKeysRewrapped: dataKeys, backupsRewrapped: rewrapped } });
        } finally {
          await opened.close();
        }
        process.stdout.write(`master key ${current.id} -> ${next.id}: ${dataKeys} data key(s) and ${rewrapped} backup(s) re-wrapped\n`);
        process.stdout.write(
          config.masterKey === undefined
            ? `the new key is in ${path.join(keyDir, 'master.key')}; the old one was kept as master-${current.id}.key.old: re-wrap copies held elsewhere, then destroy it\n`
            : `set WA_BRIDGE_MASTER_KEY to the contents of ${path.join(keyDir, `master-${next.id}.key.new`)}, restart the bridge, then delete that file\n`,
        );
      }),
    );
}

function loadMasterKeyFromBytes(bytes: Buffer): MasterKey {
  return loadMasterKey('', bytes.toString('base64'));
}
