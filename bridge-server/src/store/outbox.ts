import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { Outbox, Tx } from '../core/ports.js';
import type { Job, JobKind, JobPayloads, JobState, NewJob } from '../core/records.js';
import { compiledOnce } from './compiled.js';
import { dialectOf, indexedBy, lockChain, rowLimit } from './dialect.js';
import { executorOf, type Executor } from './executor.js';
import type { OutboxJobsTable } from './schema.js';

const jobKinds: JobKind[] = ['mail.relay', 'media.fetch', 'wa.send', 'mail.notice'];
const jobStates: JobState[] = ['pending', 'running', 'needs_attention'];

/**
 * The column conversation_id holds the ordering lane: the conversation id for its mail lane, the
 * negated id for its WhatsApp lane. Claims only compare lanes, so the two never wait on each other.
 */
const toLaneKey = (job: NewJob): number | null => (job.conversationId === null ? null : job.lane === 'whatsapp' ? -job.conversationId : job.conversationId);

function toJob(row: Selectable<OutboxJobsTable>): Job {
  const key = row.conversation_id;
  return {
    id: row.id,
    kind: row.kind as JobKind,
    payload: JSON.parse(row.payload_json) as JobPayloads[JobKind],
    conversationId: key === null ? null : Math.abs(key),
    lane: key !== null && key < 0 ? 'whatsapp' : 'mail',
    sortKey: row.sort_key,
    state: row.state as JobState,
    attempts: row.attempts,
    runAt: row.run_at,
    lastError: row.last_error,
    createdAt: row.created_at,
  };
}

const insertJob = compiledOnce((db) =>
  db
    .insertInto('outbox_jobs')
    .values({ kind: '', payload_json: '', conversation_id: 0, sort_key: 0, run_at: 0, locked_until: null, last_error: null, created_at: 0, updated_at: 0 })
    .returning('id'),
);

/**
 * The values of a new job's row, in the order of the columns above (kind, payload_json,
 * conversation_id, sort_key, run_at, locked_until, last_error, created_at, updated_at);
 * locked_until and last_error start empty.
 */
export function jobRowValues(job: NewJob, now: number): unknown[] {
  return [job.kind, JSON.stringify(job.payload), toLaneKey(job), job.sortKey, job.runAt ?? now, null, null, now, now];
}

export async function enqueue(db: Executor, job: NewJob, now: number): Promise<number> {
  const [row] = await insertJob(db, jobRowValues(job, now));
  if (!row) throw new Error('the job insert returned no id');
  return row.id;
}

export interface JobSummary {
  id: number;
  kind: JobKind;
  state: JobState;
  attempts: number;
  conversationId: number | null;
  runAt: number;
  lastError: string | null;
  createdAt: number;
}

/**
 * The outbox on the SQL store. A conversation's jobs run one at a time in (sort_key, id) order:
 * the head of each conversation is its smallest active (pending or running) job, and only a
 * pending, due head is claimable. Jobs without a conversation are independent.
 */
export class SqlOutbox implements Outbox {
  constructor(private readonly db: Executor) {}

  async claim(limit: number, now: number, leaseMs: number): Promise<Job[]> {
    return (await this.claimRuns(limit, now, leaseMs, 1)).flat();
  }

  /**
   * Claims up to `limit` runs: each run is a claimable head and, for a head of a kind in
   * `runKinds`, the jobs of the same kind queued right behind it in its lane, due and pending, up
   * to `maxRun` in all (stopping at the first job of another kind or not yet due). A run keeps its
   * lane's order, so one handler can do the run's work in fewer transactions.
   */
  async claimRuns(limit: number, now: number, leaseMs: number, maxRun: number, runKinds: readonly JobKind[] = ['mail.relay']): Promise<Job[][]> {
    if (limit <= 0) return [];
    return this.db.transaction().execute(async (trx) => {
      // One claim at a time across every bridge instance (SQLite's write lock does this there);
      // the next claimer then reads the heads this one marked running.
      await lockChain(trx, 'outbox');
      if (dialectOf(trx) === 'postgres') return claimRunsAtOnce(trx, limit, now, leaseMs, maxRun, runKinds);
      const result = await sql<Selectable<OutboxJobsTable>>`WITH RECURSIVE ${laneHeads(trx)} ${claimableHeads(trx, now, limit)}`.execute(trx);
      const extended = maxRun > 1 ? result.rows.filter((head) => head.conversation_id !== null && runKinds.includes(head.kind as JobKind)) : [];
      const behindAll = await jobsBehind(trx, extended, maxRun - 1);
      const runs: Array<Array<Selectable<OutboxJobsTable>>> = [];
      for (const head of result.rows) {
        const run = [head];
        for (const row of behindAll.get(head.id) ?? []) {
          if (row.kind !== head.kind || row.state !== 'pending' || row.run_at > now) break;
          run.push(row);
        }
        runs.push(run);
      }
      if (runs.length === 0) return [];
      await trx
        .updateTable('outbox_jobs')
        .set({ state: 'running', locked_until: now + leaseMs, attempts: sql`attempts + 1`, updated_at: now })
        .where(
          'id',
          'in',
          runs.flatMap((run) => run.map((r) => r.id)),
        )
        .execute();
      return runs.map((run) => run.map((row) => ({ ...toJob(row), state: 'running' as const, attempts: row.attempts + 1 })));
    });
  }

  /**
   * Gives claimed jobs back untried (a run stopped before them): pending again with their claim
   * not counted as an attempt. Their lane's order holds them behind the job that stopped the run.
   */
  async release(jobIds: readonly number[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.db
      .updateTable('outbox_jobs')
      .set({ state: 'pending', locked_until: null, attempts: sql`CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END`, updated_at: Date.now() })
      .where('id', 'in', [...jobIds])
      .where('state', '=', 'running')
      .execute();
  }

  async defer(jobId: number, runAt: number, reason: string): Promise<void> {
    await this.db
      .updateTable('outbox_jobs')
      .set({ state: 'pending', run_at: runAt, locked_until: null, last_error: reason, attempts: sql`CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END`, updated_at: Date.now() })
      .where('id', '=', jobId)
      .where('state', '=', 'running')
      .execute();
  }

  async renew(jobIds: readonly number[], lockedUntil: number): Promise<void> {
    if (jobIds.length === 0) return;
    await this.db.updateTable('outbox_jobs').set({ locked_until: lockedUntil }).where('id', 'in', [...jobIds]).where('state', '=', 'running').execute();
  }

  /** Finishes several jobs in one statement inside `tx` (see complete). */
  async completeMany(tx: Tx, jobIds: readonly number[]): Promise<void> {
    if (jobIds.length === 0) return;
    await executorOf(tx).deleteFrom('outbox_jobs').where('id', 'in', [...jobIds]).execute();
  }

  async complete(tx: Tx, jobId: number): Promise<void> {
    // A finished job has nothing left to say: its effect is recorded beside the data it concerns
    // (the relay row, the stored blob). Deleting it keeps the queue as small as the work left.
    await executorOf(tx).deleteFrom('outbox_jobs').where('id', '=', jobId).execute();
  }

  async reschedule(jobId: number, runAt: number, error: string): Promise<void> {
    await this.db
      .updateTable('outbox_jobs')
      .set({ state: 'pending', run_at: runAt, locked_until: null, last_error: error, updated_at: Date.now() })
      .where('id', '=', jobId)
      .execute();
  }

  async park(jobId: number, error: string): Promise<void> {
    await this.db
      .updateTable('outbox_jobs')
      .set({ state: 'needs_attention', locked_until: null, last_error: error, updated_at: Date.now() })
      .where('id', '=', jobId)
      .execute();
  }

  async recoverExpired(now: number): Promise<number> {
    const result = await this.db
      .updateTable('outbox_jobs')
      .set({ state: 'pending', locked_until: null, updated_at: now })
      .where('state', '=', 'running')
      .where('locked_until', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Puts parked jobs back in line (all, or the given ids). Returns how many. */
  async retryParked(ids?: number[]): Promise<number> {
    let query = this.db.updateTable('outbox_jobs').set({ state: 'pending', run_at: Date.now(), updated_at: Date.now() }).where('state', '=', 'needs_attention');
    if (ids) query = query.where('id', 'in', ids);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async counts(): Promise<Record<JobKind, Record<JobState, number>>> {
    const rows = await this.db
      .selectFrom('outbox_jobs')
      .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['kind', 'state'])
      .execute();
    const out = Object.fromEntries(jobKinds.map((k) => [k, Object.fromEntries(jobStates.map((s) => [s, 0]))])) as Record<JobKind, Record<JobState, number>>;
    for (const row of rows) {
      const byState = out[row.kind as JobKind];
      if (byState) byState[row.state as JobState] = Number(row.n);
    }
    return out;
  }

  /** Seconds since the oldest pending job was created (0 when none): the relay lag. */
  async oldestPendingAgeMs(now: number): Promise<number> {
    const row = await this.db.selectFrom('outbox_jobs').select((eb) => eb.fn.min('created_at').as('oldest')).where('state', 'in', ['pending', 'running']).executeTakeFirst();
    const oldest = row?.oldest;
    return oldest === null || oldest === undefined ? 0 : Math.max(0, now - Number(oldest));
  }

  async list(filter: { states?: JobState[]; limit?: number } = {}): Promise<JobSummary[]> {
    let query = this.db.selectFrom('outbox_jobs').selectAll().orderBy('id').limit(filter.limit ?? 100);
    if (filter.states) query = query.where('state', 'in', filter.states);
    const rows = await query.execute();
    return rows.map((row) => {
      const { id, kind, state, attempts, conversationId, runAt, lastError, createdAt } = toJob(row);
      return { id, kind, state, attempts, conversationId, runAt, lastError, createdAt };
    });
  }
}

/**
 * Heads: for each conversation with active (pending or running) jobs, its first active job in
 * (sort_key, id) order, as CTEs `conversations_active` and `lane_heads`. The recursive part hops
 * from one conversation id to the next through the partial index, so a claim costs a few index
 * seeks per active conversation, however many jobs are queued behind the heads.
 */
function laneHeads(db: Executor): RawBuilder<unknown> {
  return sql`conversations_active(cid) AS (
      SELECT (SELECT min(conversation_id) FROM outbox_jobs ${indexedBy(db, 'outbox_active')} WHERE state IN ('pending', 'running') AND conversation_id IS NOT NULL)
      UNION ALL
      SELECT (SELECT min(conversation_id) FROM outbox_jobs ${indexedBy(db, 'outbox_active')} WHERE state IN ('pending', 'running') AND conversation_id > c.cid)
      FROM conversations_active c WHERE c.cid IS NOT NULL
    ),
    lane_heads(id) AS (
      SELECT (
        SELECT o.id FROM outbox_jobs o ${indexedBy(db, 'outbox_active')}
        WHERE o.conversation_id = c.cid AND o.state IN ('pending', 'running')
        ORDER BY o.sort_key, o.id LIMIT 1
      )
      FROM conversations_active c WHERE c.cid IS NOT NULL
    )`;
}

/**
 * The claimable heads (with laneHeads before it), at most `limit`, by due time then id: a running
 * head blocks its conversation; a pending, due head is claimable. Jobs without a conversation are
 * their own heads.
 */
function claimableHeads(db: Executor, now: number, limit: number): RawBuilder<unknown> {
  return sql`SELECT j.* FROM lane_heads h JOIN outbox_jobs j ON j.id = h.id
    WHERE j.state = 'pending' AND j.run_at <= ${now}
    UNION ALL
    SELECT j.* FROM outbox_jobs j ${indexedBy(db, 'outbox_unordered')}
    WHERE j.state = 'pending' AND j.conversation_id IS NULL AND j.run_at <= ${now}
    ORDER BY run_at, id
    LIMIT ${rowLimit(db, limit)}`;
}

/**
 * claimRuns' reads and its update in one statement (PostgreSQL), where each is a round trip: the
 * same heads in the same order, each head's run cut where claimRuns cuts it (at the first job of
 * another kind, not pending or not yet due, or at `maxRun`), and every job of the runs marked
 * running, in the snapshot the outbox lock was taken for.
 */
async function claimRunsAtOnce(db: Executor, limit: number, now: number, leaseMs: number, maxRun: number, runKinds: readonly JobKind[]): Promise<Job[][]> {
  const result = await sql<Selectable<OutboxJobsTable> & { head_id: number; n: number }>`
    WITH RECURSIVE ${laneHeads(db)}, heads AS (${claimableHeads(db, now, limit)}
    ), behind AS (
      SELECT h.id AS head_id, b.id, b.kind, b.state, b.run_at, row_number() OVER (PARTITION BY h.id ORDER BY b.sort_key, b.id) AS n
      FROM heads h CROSS JOIN LATERAL (
        SELECT o.id, o.kind, o.state, o.run_at, o.sort_key FROM outbox_jobs o
        WHERE o.conversation_id = h.conversation_id AND o.state IN ('pending', 'running') AND (o.sort_key, o.id) > (h.sort_key, h.id)
        ORDER BY o.sort_key, o.id LIMIT ${Math.max(0, maxRun - 1)}
      ) b
      WHERE h.conversation_id IS NOT NULL AND h.kind = ANY (${[...runKinds]}::text[])
    ), stops AS (
      SELECT b.head_id, min(b.n) AS at FROM behind b JOIN heads h ON h.id = b.head_id
      WHERE b.kind <> h.kind OR b.state <> 'pending' OR b.run_at > ${now}
      GROUP BY b.head_id
    ), members AS (
      SELECT h.id AS head_id, h.id, 0::bigint AS n FROM heads h
      UNION ALL
      SELECT b.head_id, b.id, b.n FROM behind b LEFT JOIN stops s ON s.head_id = b.head_id
      WHERE s.at IS NULL OR b.n < s.at
    )
    UPDATE outbox_jobs j SET state = 'running', locked_until = ${now + leaseMs}, attempts = j.attempts + 1, updated_at = ${now}
    FROM members m WHERE j.id = m.id
    RETURNING m.head_id, m.n, j.*`.execute(db);
  const runs = new Map<number, Array<Selectable<OutboxJobsTable> & { n: number }>>();
  for (const { head_id: headId, ...row } of result.rows) {
    const run = runs.get(headId);
    if (run) run.push(row);
    else runs.set(headId, [row]);
  }
  const ordered = [...runs.values()].map((run) => run.sort((a, b) => a.n - b.n));
  // The heads' order, as claimRuns gives it: by due time, then id.
  ordered.sort((a, b) => a[0]!.run_at - b[0]!.run_at || a[0]!.id - b[0]!.id);
  return ordered.map((run) => run.map(({ n: _n, ...row }) => toJob(row)));
}

/** For each head, up to `n` active jobs queued behind it in its lane, in lane order (SQLite: one indexed query per head). */
async function jobsBehind(db: Executor, heads: ReadonlyArray<Selectable<OutboxJobsTable>>, n: number): Promise<Map<number, Array<Selectable<OutboxJobsTable>>>> {
  const out = new Map<number, Array<Selectable<OutboxJobsTable>>>();
  if (n <= 0) return out;
  for (const head of heads) {
    const behind = await sql<Selectable<OutboxJobsTable>>`
      SELECT * FROM outbox_jobs ${indexedBy(db, 'outbox_active')}
      WHERE conversation_id = ${head.conversation_id} AND state IN ('pending', 'running') AND (sort_key, id) > (${head.sort_key}, ${head.id})
      ORDER BY sort_key, id LIMIT ${rowLimit(db, n)}`.execute(db);
    out.set(head.id, behind.rows);
  }
  return out;
}
