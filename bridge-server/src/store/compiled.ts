import { CompiledQuery, type Compilable } from 'kysely';
import { dialectOf, type Dialect } from './dialect.js';
import type { Executor } from './executor.js';

/**
 * A hot query shape, compiled by Kysely once and then run with fresh parameters: building and
 * compiling a query costs more than SQLite takes to run these small statements. `build` gets
 * placeholder values; `run` passes the real ones in the order the compiled query lists them.
 * The SQL is compiled once per dialect it runs on (a process normally has one database; a
 * command or test comparing two engines has both).
 */
export function compiledOnce<Row>(build: (db: Executor) => Compilable<Row>): (db: Executor, parameters: readonly unknown[]) => Promise<Row[]> {
  const compiled = new Map<Dialect, { text: string; count: number }>();
  return async (db, parameters) => {
    const dialect = dialectOf(db);
    let query = compiled.get(dialect);
    if (query === undefined) {
      const { sql, parameters: placeholders } = build(db).compile();
      query = { text: sql, count: placeholders.length };
      compiled.set(dialect, query);
    }
    if (parameters.length !== query.count) throw new TypeError(`the query takes ${query.count} parameters, got ${parameters.length}`);
    return (await db.executeQuery(CompiledQuery.raw(query.text, [...parameters]))).rows as Row[];
  };
}
