import { sql } from 'kysely';
import type { Tx } from '../core/ports.js';
import { asSqlTx, type Executor } from './executor.js';

interface Queued {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: units of work that arrive together (in one pass of the event loop, or while a
 * group is being written) share one transaction, each in a savepoint of its own, and every caller
 * learns its outcome only after that one commit.
 * A unit that throws is rolled back to its savepoint alone; the others still commit. If the
 * commit itself fails, every unit of the group fails and nothing of it is stored. So a caller
 * that acknowledges after `run` resolves still acknowledges only what is committed, and a busy
 * store pays one commit (and one WAL write of the pages the group touched) per group, not per unit.
 * Grouping adds no timer: a unit waits at most for the event loop's current pass to end.
 */
export class GroupCommit {
  private readonly queue: Queued[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly db: Executor,
    private readonly maxGroup = 64,
  ) {}

  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.flushing || this.scheduled) return;
      // SQLite commits synchronously, so a commit is never "under way" when the next request is
      // read. Waiting for the end of the current pass over I/O events lets every delivery read in
      // that pass join the same transaction, at the cost of that one pass.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxGroup);
        let outcomes: Outcome[];
        try {
          outcomes = await this.db.transaction().execute(async (trx) => {
            const done: Outcome[] = [];
            for (const unit of group) done.push(await runInSavepoint(trx, unit.fn));
            return done;
          });
        } catch (error) {
          for (const unit of group) unit.reject(error);
          continue;
        }
        for (const [i, unit] of group.entries()) {
          const outcome = outcomes[i]!;
          if (outcome.ok) unit.resolve(outcome.value);
          else unit.reject(outcome.error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

async function runInSavepoint(trx: Executor, fn: (tx: Tx) => Promise<unknown>): Promise<Outcome> {
  await sql`SAVEPOINT group_unit`.execute(trx);
  let outcome: Outcome;
  try {
    outcome = { ok: true, value: await fn(asSqlTx(trx)) };
  } catch (error) {
    // Undo this unit's writes only. If the database has already abandoned the whole transaction,
    // this throws, and the group's transaction fails as a whole.
    await sql`ROLLBACK TO group_unit`.execute(trx);
    outcome = { ok: false, error };
  }
  await sql`RELEASE group_unit`.execute(trx);
  return outcome;
}
