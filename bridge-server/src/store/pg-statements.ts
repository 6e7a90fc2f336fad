import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Distinct statement texts given a server-side name; any beyond run unnamed, as before. */
const NAMED_LIMIT = 512;

/**
 * The pool Kysely draws its connections from, with every parameterised statement sent as a
 * named prepared statement: PostgreSQL parses and plans a statement once per connection instead
 * of on every call. In the relay benchmark the server spent most of its CPU in the parser and the
 * planner (its lexer, grammar and expression walkers topped a `perf` profile of the backends)
 * for the same few dozen statements.
 *
 * Only statements with parameters are named: a statement without any may hold several commands
 * (a migration, a raw script), which only the simple protocol accepts. A name is a digest of the
 * text, so one name never stands for two texts on a connection (node-postgres refuses that).
 *
 * When a table's columns change under a running bridge (another instance migrating), the server
 * refuses a prepared statement whose result shape changed ("cached plan must not change result
 * type", SQLSTATE 0A000). That statement fails once, as a dropped connection would (its caller
 * retries), and the connection is closed on release, so the retry prepares the statement afresh.
 */
export function namedStatementPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < NAMED_LIMIT) {
      name = `wab_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
      names.set(text, name);
    }
    return name;
  };
  // Kysely keeps one connection object per client it is given, so a client keeps its wrapper.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let stale = false;
    const query = (textOrCursor: unknown, parameters?: ReadonlyArray<unknown>): unknown => {
      const name = typeof textOrCursor === 'string' && parameters !== undefined && parameters.length > 0 ? nameOf(textOrCursor) : undefined;
      if (name === undefined) return (client.query as (...args: unknown[]) => unknown)(textOrCursor, parameters === undefined ? undefined : [...parameters]);
      return client.query({ name, text: textOrCursor as string, values: [...parameters!] }).catch((error: unknown) => {
        if ((error as { code?: string } | undefined)?.code === '0A000') stale = true;
        throw error;
      });
    };
    return {
      query: query as PostgresPoolClient['query'],
      release: () => {
        if (stale) {
          wrappers.delete(client);
          client.release(true);
        } else client.release();
      },
    };
  };
  return {
    connect: async () => {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
