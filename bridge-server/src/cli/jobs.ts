import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { BadInputError, NotFoundError } from '../core/errors.js';
import type { JobState } from '../core/records.js';
import { SqlAuditTrail } from '../store/audit.js';
import { openExistingDatabase, type OpenedDatabase } from '../store/db.js';
import { SqlOutbox, type JobSummary } from '../store/outbox.js';
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
          const list = await outbox.list({ states, limit: listLimit });
          if (options.json) {
            for (const job of list) process.stdout.write(`${JSON.stringify(job)}\n`);
            return;
          }
          const now = Date.now();
          for (const job of list) process.stdout.write(`${jobLine(job, now)}\n`);
          const counts = await outbox.counts();
          const listed = Object.values(counts).reduce((sum, byState) => sum + states.reduce((n, state) => n + byState[state], 0), 0);
          if (listed === 0) process.stdout.write(`No job is ${inWords(states.map((state) => stateWords[state]))}.\n`);
          else if (listed > list.length) process.stdout.write(`… and ${listed - list.length} more, not listed (the first ${listLimit} are).\n`);
          process.stdout.write(`${countsLine(counts)}\n`);
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

/** How many jobs `jobs list` prints; the count of the rest follows them. */
const listLimit = 1000;

const stateWords: Record<JobState, string> = { pending: 'pending', running: 'running', needs_attention: 'waiting for attention' };

/**
 * One job, its fields tab-separated for grep and cut: id, kind, state, attempts, conversation,
 * how long it has waited since it was queued, when it is tried next (pending jobs), and its last error.
 */
export function jobLine(job: JobSummary, now: number): string {
  const next = job.state !== 'pending' ? '' : job.runAt <= now ? 'next=now' : `next=in ${elapsed(job.runAt - now)}`;
  return [job.id, job.kind, job.state, `attempts=${job.attempts}`, `conversation=${job.conversationId ?? '-'}`, `waiting=${elapsed(now - job.createdAt)}`, next, job.lastError ?? ''].join('\t');
}

/** The outbox by kind, in words: "mail.relay: 3 pending, 1 running, 0 waiting for attention; …". */
export function countsLine(counts: Record<string, Record<JobState, number>>): string {
  return Object.entries(counts)
    .map(([kind, byState]) => `${kind}: ${jobStates.map((state) => `${byState[state]} ${stateWords[state]}`).join(', ')}`)
    .join('; ');
}

/** "a", "a or b", "a, b or c". */
function inWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)!}`;
}

/** A span of time in its two largest units: "45s", "12m 03s", "2h 05m", "3d 04h". */
export function elapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: Array<[string, number]> = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  const first = units.findIndex(([, size]) => seconds >= size);
  if (first === -1) return '0s';
  const [bigName, bigSize] = units[first]!;
  const big = `${Math.floor(seconds / bigSize)}${bigName}`;
  const next = units[first + 1];
  return next ? `${big} ${String(Math.floor((seconds % bigSize) / next[1])).padStart(2, '0')}${next[0]}` : big;
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
