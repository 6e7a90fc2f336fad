import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { BadInputError, NotFoundError } from '../core/errors.js';
import type { JobState } from '../core/records.js';
import { SqlAuditTrail } from '../store/audit.js';
import { openExistingDatabase, type OpenedDatabase } from '../store/db.js';
import { SqlOutbox } from '../store/outbox.js';
import { recordCli } from './audit.js';
import { runCommand } from './run.js';

const jobStates: readonly JobState[] = ['pending', 'running', 'needs_attention'];

/** Operator view of the outbox: what is pending or parked, and putting parked jobs back in line. */
export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('Inspect and retry outbox jobs (mail relays, media downloads).');
  jobs
    .command('list')
    .description('List queued jobs: pending, running and those that need attention (or those in --state).')
    .option('--state <states>', `comma-separated: ${jobStates.join(',')}`, jobStates.join(','))
    .option('--json', 'print JSON lines')
    .action((options: { state: string; json?: boolean }) =>
      runCommand(async () => {
        const states = parseStates(options.state);
        const { outbox, close } = await openOutbox();
        try {
          const list = await outbox.list({ states, limit: 1000 });
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
    .description('Put jobs that need attention back in line (all, or the ids given). Recorded in the audit trail.')
    .argument('[ids...]', 'job ids, as `jobs list` prints them')
    .action((given: string[]) =>
      runCommand(async () => {
        const ids = [...new Set(given.map(parseJobId))];
        const { opened, outbox, close } = await openOutbox();
        try {
          if (ids.length > 0) await checkParked(opened, ids);
          const n = await outbox.retryParked(ids.length > 0 ? ids : undefined);
          const trail = new SqlAuditTrail(opened.db);
          if (ids.length === 0) await recordCli(trail, { action: 'jobs.retry', details: { jobs: 'all needing attention', count: n } });
          else for (const id of ids) await recordCli(trail, { action: 'jobs.retry', target: `job:${id}` });
          process.stdout.write(`${n} job(s) queued again; a running bridge picks them up within a second\n`);
        } finally {
          await close();
        }
      }),
    );
}

/** The states `--state` names; an unknown one is a usage error that lists the valid ones. */
function parseStates(value: string): JobState[] {
  const states = value.split(',').map((state) => state.trim());
  const unknown = states.filter((state) => !(jobStates as readonly string[]).includes(state));
  if (unknown.length > 0) {
    throw new BadInputError('bad_state', `--state: unknown job state ${unknown.map((state) => JSON.stringify(state)).join(', ')}; expected one or more of ${jobStates.join(', ')} (comma-separated)`);
  }
  return states as JobState[];
}

function parseJobId(value: string): number {
  const id = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!(id > 0)) throw new BadInputError('bad_id', `not a job id: ${JSON.stringify(value)} (job ids are the whole numbers \`wa-bridge jobs list\` prints first)`);
  return id;
}

/** Every id must name a job that needs attention; otherwise nothing is queued again. */
async function checkParked(opened: OpenedDatabase, ids: number[]): Promise<void> {
  const rows = await opened.db.selectFrom('outbox_jobs').select(['id', 'state']).where('id', 'in', ids).execute();
  const stateOf = new Map(rows.map((row) => [row.id, row.state]));
  const missing = ids.filter((id) => !stateOf.has(id));
  if (missing.length > 0) {
    throw new NotFoundError(`no job ${missing.join(', ')} in the outbox (finished jobs leave it; see \`wa-bridge jobs list\`); nothing was queued again`);
  }
  const active = ids.filter((id) => stateOf.get(id) !== 'needs_attention');
  if (active.length > 0) {
    const states = active.map((id) => `job ${id} is ${stateOf.get(id) ?? ''}`).join(', ');
    throw new BadInputError('not_parked', `${states}, not waiting for attention; nothing was queued again`);
  }
}

async function openOutbox() {
  const config = loadConfig();
  const opened = await openExistingDatabase(config.database);
  return { opened, outbox: new SqlOutbox(opened.db), close: opened.close };
}
