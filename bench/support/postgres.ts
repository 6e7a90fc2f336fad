import pg from 'pg';

/** The PostgreSQL server the PostgreSQL runs make their throwaway databases on. */
export const postgresServer = process.env.WA_BRIDGE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs `fn` with a client connected to the database at `url`, then disconnects. */
async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs `fn` with a client connected to the server's maintenance database, then disconnects. */
export function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(postgresServer, fn);
}

/** The URL of database `name` on that server. */
export function databaseUrl(name: string): string {
  const url = new URL(postgresServer);
  url.pathname = `/${name}`;
  return url.toString();
}

/** ANALYZE of every table of the database at `url`: fresh planner statistics, as autovacuum keeps them. */
export async function analyze(url: string): Promise<void> {
  await withClient(url, (client) => client.query('ANALYZE'));
}
