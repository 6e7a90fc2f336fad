import pg from 'pg';
import { postgresServerUrl, runDatabasePrefix } from './test-database.js';

/**
 * Global setup of the PostgreSQL project: PostgreSQL must answer (a run that cannot reach it
 * fails; it is never skipped), and at the end every database this run made is dropped.
 */
export async function setup(): Promise<() => Promise<void>> {
  const prefix = runDatabasePrefix();
  const client = new pg.Client({ connectionString: postgresServerUrl });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`the PostgreSQL suites need PostgreSQL at ${postgresServerUrl.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')} (set WA_BRIDGE_TEST_POSTGRES_URL): ${(error as Error).message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
  return async () => {
    const admin = new pg.Client({ connectionString: postgresServerUrl });
    await admin.connect();
    try {
      const rows = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
      for (const { datname } of rows.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
}
