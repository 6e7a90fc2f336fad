import type { Command } from 'commander';
import { writeCheckpoint } from '../archive/checkpoints.js';
import { loadCheckpointKey } from '../archive/signing-key.js';
import { verifyArchive, type VerifyProblem } from '../archive/verify.js';
import { loadConfig } from '../config/load.js';
import { openBlobStore } from '../archive/keyring.js';
import { openExistingDatabase } from '../store/db.js';
import { exitCodes, runCommand } from './run.js';

/** `wa-bridge verify` and `wa-bridge checkpoint`: proving the archive is as it was written. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('Recompute every hash chain, checkpoint signature and media hash of the store; exit 0 only when all hold.')
    .option('--json', 'print the report as one JSON object')
    .option('--trusted-key <key...>', "trust only these checkpoint public keys (as `wa-bridge checkpoint` prints them), not the data dir's key")
    .action((options: { json?: boolean; trustedKey?: string[] }) =>
      runCommand(async () => {
        const config = loadConfig();
        const opened = await openExistingDatabase(config.database);
        try {
          const trustedKeys = options.trustedKey ?? [loadCheckpointKey(config.dataDir, config.checkpoints.keyFile).publicKey];
          const report = await verifyArchive({ db: opened.db, blobs: (await openBlobStore(config, opened.db)).store, trustedKeys });
          if (options.json) {
            process.stdout.write(`${JSON.stringify(report)}\n`);
          } else {
            for (const problem of report.problems) process.stdout.write(`FAIL ${describe(problem)}\n`);
            const counts = `${report.conversations} conversation(s), ${report.events} event(s), ${report.blobs} blob(s), ${report.checkpoints} checkpoint(s), ${report.auditEntries} audit entries`;
            process.stdout.write(report.ok ? `OK ${counts}: every chain, checkpoint and media hash holds\n` : `FAILED ${report.problems.length} problem(s) in ${counts}\n`);
            const { unsigned } = report;
            if (unsigned.events > 0 || unsigned.auditEntries > 0) {
              const since = unsigned.newestCheckpointAt === null ? 'no checkpoint has been signed yet' : `written after the newest checkpoint (${new Date(unsigned.newestCheckpointAt).toISOString()})`;
              process.stdout.write(`NOTE ${unsigned.events} event(s) and ${unsigned.auditEntries} audit entries are not signed yet, ${since}: the newest of them could be removed without a trace until \`wa-bridge checkpoint\` (or the next scheduled one) signs them\n`);
            }
          }
          return report.ok ? exitCodes.ok : exitCodes.failure;
        } finally {
          await opened.close();
        }
      }),
    );
  program
    .command('checkpoint')
    .description('Sign the chain heads of every conversation now (the bridge also does this on a schedule).')
    .action(() =>
      runCommand(async () => {
        const config = loadConfig();
        const opened = await openExistingDatabase(config.database);
        try {
          const row = await writeCheckpoint(opened.db, loadCheckpointKey(config.dataDir, config.checkpoints.keyFile), 'on_demand');
          const heads = (JSON.parse(row.headsJson) as unknown[]).length;
          process.stdout.write(`checkpoint ${row.id}: ${heads} chain head(s) signed by key ${row.publicKey}\n`);
        } finally {
          await opened.close();
        }
      }),
    );
}

/** " (chat id …, chat key …)": the chat id is what export, hold and restore take. */
function describeChat(problem: VerifyProblem): string {
  const parts = [problem.chatId ? `chat id ${problem.chatId}` : undefined, problem.chatKey].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function describe(problem: VerifyProblem): string {
  const where = [
    problem.conversationId !== undefined ? `conversation ${problem.conversationId}${describeChat(problem)}` : undefined,
    problem.seq !== undefined ? `event ${problem.seq}` : undefined,
    problem.waMessageId ? `message ${problem.waMessageId}` : undefined,
  ].filter(Boolean);
  return `[${problem.area}] ${where.length > 0 ? `${where.join(', ')}: ` : ''}${problem.detail}`;
}
