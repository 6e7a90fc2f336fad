import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { JobState } from '../core/records.js';
import { openDatabase } from '../store/db.js';
import { SqlOutbox } from '../store/outbox.js';
import { runCommand } from './run.js';

/** Operator view of the outbox: what is pending or parked, and putting parked jobs back in line. */
export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('Inspect and retry outbox jobs (mail relays, media downloads).');
  jobs
    .command('list')
    .description('List queued jobs: pending, running and those that need attention (or those in --state).')
    .option('--state <states>', 'comma-separated: pending,running,needs_attention', 'pending,running,needs_attention')
    .option('--json', 'print JSON lines')
    .action((options: { state: string; json?: boolean }) =>
      runCommand(async () => {
        const { outbox, close } = await openOutbox();
        try {
          const list = await outbox.list({ states: options.state.split(',') as JobState[], limit: 1000 });
          for (const job of list) {
            process.stdout.write(
              options.json
                ? `${JSON.stringify(job)}\n`
                : `${job.id}\t${job.kind}\t${job.state}\tattempts=${job.attempts}\tconversation=${job.conversationId ?? '-'}\t${job.lastError ?? ''}\n`,
            );
          }
          const counts = await outbox.counts();
          if (!options.json) process.stdout.write(`${JSON.stringify(counts)}\n`);
        } finally {
          await close();
        }
      }),
    );
  jobs
    .command('retry')
    .description('Put jobs that need attention back in line (all, or the ids given).')
    .argument('[ids...]', 'job ids')
    .action((ids: string[]) =>
      runCommand(async () => {
        const { outbox, close } = await openOutbox();
        try {
          const n = await outbox.retryParked(ids.length > 0 ? ids.map(Number) : undefined);
          process.stdout.write(`${n} job(s) queued again; a running bridge picks them up within a second\n`);
        } finally {
          await close();
        }
      }),
    );
}

async function openOutbox() {
  const config = loadConfig();
  const opened = await openDatabase(config.database);
  return { outbox: new SqlOutbox(opened.db), close: opened.close };
}
