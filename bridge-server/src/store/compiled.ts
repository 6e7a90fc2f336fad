import { CompiledQuery, type Compilable } from 'kysely';
import type { Executor } from './executor.js';

/**
 * A hot query shape, compiled by Kysely once and then run with fresh parameters: building and
 * compiling a query costs more than SQLite takes to run these small statements. `build` gets
 * placeholder values; `run` passes the real ones in the order the compiled query lists them.
 * The SQL comes from the dialect of the first executor it runs on (a process has one database).
 */
export function compiledOnce<Row>(build: (db: Executor) => Compilable<Row>): (db: Executor, parameters: readonly unknown[]) => Promise<Row[]> {
  let text: string | undefined;
  let count = 0;
  return async (db, parameters) => {
    if (text === undefined) {
      const compiled = build(db).compile();
      text = compiled.sql;
      count = compiled.parameters.length;
    }
    if (parameters.length !== count) throw new TypeError(`the query takes ${count} parameters, got ${parameters.length}`);
    return (await db.executeQuery(CompiledQuery.raw(text, [...parameters]))).rows as Row[];
  };
}
