import { sql } from 'kysely';
import type { Tx } from '../core/ports.js';
import { asSqlTx, type Executor } from './executor.js';
import { TurnBatches } from './turn-batches.js';

type Unit = (tx: Tx) => Promise<unknown>;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: units of work that arrive together (in one pass of the event loop, or while a
 * group is being written) share one transaction, and every caller learns its outcome only after
 * that one commit. A unit that throws is undone alone; the others still commit. If the commit
 * itself fails, every unit of the group fails and nothing of it is stored. So a caller that
 * acknowledges after `run` resolves still acknowledges only what is committed, and a busy store
 * pays one commit (and one WAL write of the pages the group touched) per group, not per unit.
 * Grouping adds no timer: a unit waits at most for the event loop's current pass to end.
 *
 * A group is first written with no savepoints, since on PostgreSQL each SAVEPOINT is a round
 * trip of its own and units rarely fail. When one does, that transaction is rolled back and the
 * group written again, each unit in a savepoint of its own, so the failing unit is rolled back
 * alone. A unit may therefore run twice, and must have no effect outside its transaction: its
 * caller sees only the outcome of the run that was committed.
 */
export class GroupCommit {
  private readonly groups: TurnBatches<Unit, unknown>;

  constructor(
    private readonly db: Executor,
    maxGroup = 64,
  ) {
    this.groups = new TurnBatches(async (group) => {
      // A failed BEGIN or COMMIT fails every unit of the group (TurnBatches rejects them).
      const outcomes = await this.write(group.map((waiting) => waiting.item));
      for (const [i, waiting] of group.entries()) {
        const outcome = outcomes[i]!;
        if (outcome.ok) waiting.resolve(outcome.value);
        else waiting.reject(outcome.error);
      }
    }, maxGroup);
  }

  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.groups.add(fn) as Promise<T>;
  }

  /**
   * Runs the group's units in one transaction and commits it. Throws when the transaction fails
   * as a whole (its BEGIN or COMMIT).
   */
  private async write(group: readonly Unit[]): Promise<Outcome[]> {
    let failure: { error: unknown } | undefined;
    try {
      return await this.db.transaction().execute(async (trx) => {
        const done: Outcome[] = [];
        for (const unit of group) {
          try {
            done.push({ ok: true, value: await unit(asSqlTx(trx)) });
          } catch (error) {
            failure = { error };
            throw error;
          }
        }
        return done;
      });
    } catch (error) {
      if (failure === undefined) throw error;
      // Rolled back: a unit alone has its outcome; a group is written again, unit by unit.
      if (group.length === 1) return [{ ok: false, error: failure.error }];
      return this.writeInSavepoints(group);
    }
  }

  private writeInSavepoints(group: readonly Unit[]): Promise<Outcome[]> {
    return this.db.transaction().execute(async (trx) => {
      const done: Outcome[] = [];
      // Each unit starts with a savepoint of the same name, over the previous unit's (the commit
      // releases them all, so none is released one by one). ROLLBACK TO undoes the unit that
      // threw and keeps its savepoint, which then marks where the next unit starts.
      let marked = false;
      for (const unit of group) {
        if (!marked) await sql`SAVEPOINT group_unit`.execute(trx);
        try {
          done.push({ ok: true, value: await unit(asSqlTx(trx)) });
          marked = false;
        } catch (error) {
          // Undo this unit's writes only. If the database has already abandoned the whole
          // transaction, this throws, and the group's transaction fails as a whole.
          await sql`ROLLBACK TO group_unit`.execute(trx);
          done.push({ ok: false, error });
          marked = true;
        }
      }
      return done;
    });
  }
}
