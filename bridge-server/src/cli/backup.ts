import path from 'node:path';
import type { Command } from 'commander';
import { loadMasterKey } from '../archive/crypto.js';
import { refuseOccupied, restoreConversation, restoreStore } from '../archive/restore.js';
import { loadCheckpointKey } from '../archive/signing-key.js';
import { verifyArchive } from '../archive/verify.js';
import { loadConfig } from '../config/load.js';
import { BadInputError } from '../core/errors.js';
import { SqlAuditTrail } from '../store/audit.js';
import { openBlobStore } from '../archive/keyring.js';
import { openDatabase, openExistingDatabase, openSqlite } from '../store/db.js';
import { cliActor, recordCli } from './audit.js';
import type { BackupProgress } from '../archive/backup.js';
import { progressBar } from './progress.js';
import { exitCodes, runCommand } from './run.js';

/** What each phase of a backup shows beside its bar. */
const phaseNames: Record<Parameters<BackupProgress>[0], string> = {
  snapshot: 'taking a consistent copy of the database',
  packing: 'packing the database and media',
  encrypting: 'encrypting',
};

/**
 * `wa-bridge backup`, `backup verify` and `restore`: encrypted backups taken while the bridge
 * runs, checked by restoring them into a scratch store, and restored one conversation at a time
 * or whole into a new store.
 */
export function registerBackup(program: Command): void {
  const backup = program
    .command('backup')
    .description('Make an encrypted backup (database online backup plus media) while the bridge runs.')
    .option('--out-dir <dir>', 'where to write it (default WA_BRIDGE_BACKUP_DIR)')
    .option('--keep <n>', 'then keep only the newest n backups there (default WA_BRIDGE_BACKUP_KEEP)')
    .action((options: { outDir?: string; keep?: string }) =>
      runCommand(async () => {
        const config = loadConfig();
        const outDir = options.outDir ?? config.backups?.dir;
        if (!outDir) throw new BadInputError('no_backup_dir', 'name where backups go: --out-dir DIR or WA_BRIDGE_BACKUP_DIR');
        if (options.outDir === undefined) await (await import('../archive/backup.js')).refuseMissingBackupDir(outDir);
        const keep = options.keep === undefined ? (config.backups?.keep ?? 7) : Number(options.keep);
        if (!Number.isInteger(keep) || keep < 1) throw new BadInputError('bad_keep', `--keep: expected a whole number of backups, at least 1, got ${JSON.stringify(options.keep)}`);
        const { makeBackup, pruneBackups } = await import('../archive/backup.js');
        const opened = await openExistingDatabase(config.database);
        try {
          const source = config.database.kind === 'sqlite' ? config.database : { kind: 'postgres' as const, db: opened.db };
          const bar = await progressBar('backing up [{bar}] {percentage}% {phase}');
          let shown: string | undefined;
          const result = await makeBackup({
            source,
            blobs: (await openBlobStore(config, opened.db)).store,
            master: loadMasterKey(config.dataDir, config.masterKey),
            outDir: path.resolve(outDir),
            onProgress: (phase, done, total) => {
              if (!bar) return;
              if (shown !== phase) bar.start(Math.max(total, 1), done, { phase: phaseNames[phase] });
              else bar.update(done);
              shown = phase;
            },
          }).finally(() => bar?.stop());
          const pruned = await pruneBackups(path.resolve(outDir), keep);
          await recordCli(new SqlAuditTrail(opened.db), { action: 'backup', target: `backup:${path.basename(result.file)}`, details: { conversations: result.conversations, events: result.events, blobs: result.blobs, bytes: result.bytes, pruned: pruned.length } });
          process.stdout.write(`${result.file}: ${result.conversations} conversation(s), ${result.events} event(s), ${result.blobs} blob(s), ${result.bytes} bytes, encrypted${pruned.length > 0 ? `; removed ${pruned.length} older backup(s)` : ''}\n`);
        } finally {
          await opened.close();
        }
      }),
    );
  backup
    .command('verify')
    .description('Restore a backup into a scratch store and check every chain, checkpoint and media hash; exit 0 only when all hold.')
    .argument('<file>', 'the backup (.wabk)')
    .option('--trusted-key <key...>', "trust only these checkpoint public keys (as `wa-bridge checkpoint` prints them), not the data dir's key: for a store restored with --all, the keys it was restored with")
    .action((file: string, options: { trustedKey?: string[] }) =>
      runCommand(async () => {
        const config = loadConfig();
        const { openBackup } = await import('../archive/backup.js');
        const trustedKeys = options.trustedKey ?? [loadCheckpointKey(config.dataDir, config.checkpoints.keyFile).publicKey];
        const opened = await openBackup(loadMasterKey(config.dataDir, config.masterKey), path.resolve(file));
        try {
          const scratch = openSqlite(path.join(opened.dir, 'database.sqlite'));
          try {
            const report = await verifyArchive({ db: scratch.db, blobs: opened.blobsIn(scratch.db), trustedKeys });
            for (const problem of report.problems) process.stdout.write(`FAIL [${problem.area}] ${problem.detail}\n`);
            process.stdout.write(
              report.ok
                ? `OK backup of ${opened.manifest.createdAt}: ${report.conversations} conversation(s), ${report.events} event(s), ${report.blobs} blob(s) restore and verify\n`
                : `FAILED ${report.problems.length} problem(s) in the backup of ${opened.manifest.createdAt}\n`,
            );
            return report.ok ? exitCodes.ok : exitCodes.failure;
          } finally {
            await scratch.close();
          }
        } finally {
          await opened.close();
        }
      }),
    );
  program
    .command('restore')
    .description('Restore one conversation from a backup into the live store, leaving everything else as it is; or, with --all, a whole backup into a new, empty store.')
    .option('--conversation <chatId>', 'the conversation (X-WhatsApp-Chat-Id)')
    .option('--all', 'the whole backup, into a new, empty store (after losing the machine or the database)')
    .requiredOption('--backup <file>', 'the backup (.wabk)')
    .option('--trusted-key <key...>', "with --all: trust these checkpoint public keys (as `wa-bridge checkpoint` prints them) instead of the data dir's key")
    .option('--undo-deletion <reason>', 'with --conversation: bring back a conversation deleted here (retention or erasure), because that deletion was wrong; the reason goes into the audit trail')
    .action((options: { conversation?: string; all?: boolean; backup: string; trustedKey?: string[]; undoDeletion?: string }) =>
      runCommand(async () => {
        if (options.conversation !== undefined && options.all === true) throw new BadInputError('restore_what', 'restore either one conversation (--conversation CHAT_ID) or the whole backup (--all), not both');
        if (options.conversation === undefined && options.all !== true) throw new BadInputError('restore_what', 'name what to restore: --conversation CHAT_ID, or --all for the whole backup');
        if (options.trustedKey !== undefined && options.all !== true) throw new BadInputError('restore_what', '--trusted-key goes with --all');
        if (options.undoDeletion !== undefined && options.conversation === undefined) throw new BadInputError('restore_what', '--undo-deletion goes with --conversation');
        if (options.undoDeletion !== undefined && options.undoDeletion.trim().length < 8) throw new BadInputError('restore_what', '--undo-deletion needs the reason the deletion was wrong, in a few words');
        const config = loadConfig();
        const { openBackup } = await import('../archive/backup.js');
        const live = options.all === true ? await openDatabase(config.database) : await openExistingDatabase(config.database);
        let backup: Awaited<ReturnType<typeof openBackup>> | undefined;
        try {
          // Before a large backup is decrypted and unpacked for nothing.
          if (options.all === true) await refuseOccupied(live.db);
          backup = await openBackup(loadMasterKey(config.dataDir, config.masterKey), path.resolve(options.backup));
          const liveBlobs = (await openBlobStore(config, live.db)).store;
          if (options.conversation === undefined) {
            const trustedKeys = options.trustedKey ?? [loadCheckpointKey(config.dataDir, config.checkpoints.keyFile).publicKey];
            const bar = await progressBar('restoring [{bar}] {value}/{total} rows {eta_formatted}');
            let started = false;
            const result = await restoreStore({
              live: live.db,
              liveBlobs,
              backup,
              trustedKeys,
              audit: new SqlAuditTrail(live.db),
              actor: cliActor(),
              onProgress: (done, total) => {
                if (started) bar?.update(done);
                else bar?.start(total, done);
                started = true;
              },
            }).finally(() => bar?.stop());
            process.stdout.write(`restored the backup of ${backup.manifest.createdAt}: ${result.conversations} conversation(s), ${result.events} event(s), ${result.blobs} blob(s), and ${result.auditEntries} audit ${result.auditEntries === 1 ? 'entry' : 'entries'}\n`);
            return;
          }
          const result = await restoreConversation({
            live: live.db,
            liveBlobs,
            backup,
            chatId: options.conversation,
            audit: new SqlAuditTrail(live.db),
            actor: cliActor(),
            ...(options.undoDeletion === undefined ? {} : { undoDeletion: options.undoDeletion.trim() }),
          });
          const skipped = result.skippedLinks.length > 0 ? `; not linked again to ${result.skippedLinks.join(', ')} (no such matter here)` : '';
          process.stdout.write(`restored ${options.conversation} from the backup of ${backup.manifest.createdAt}: ${result.events} event(s), ${result.blobs} blob(s)${skipped}\n`);
        } finally {
          await live.close();
          await backup?.close();
        }
      }),
    );
}
