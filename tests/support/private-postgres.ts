import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);
const bin = (name: string) => path.join(process.env.WA_BRIDGE_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin', name);

/**
 * A PostgreSQL server of a test's own (initdb in a temp dir, trust auth, loopback, a free port),
 * for faults that must not touch the shared server other suites are using: restarting it,
 * stopping it. Runs as the `postgres` system user, as initdb refuses root.
 */
export interface PrivatePostgres {
  url(database?: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (fast shutdown: connections are cut) and starts it again. */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wab-pg-'));
  const { stdout: ids } = await run('id', ['-u', 'postgres']);
  const { stdout: gids } = await run('id', ['-g', 'postgres']);
  await chown(dir, Number(ids.trim()), Number(gids.trim()));
  await chmod(dir, 0o700);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asPostgres = (file: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', bin(file), ...args], { timeout: 60_000 });
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => void (await asPostgres('pg_ctl', ['-D', data, '-w', '-l', path.join(dir, 'log'), '-o', options, 'start']));
  const stop = async () => void (await asPostgres('pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop']));
  await start();
  let running = true;
  return {
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async restart() {
      await stop();
      await start();
    },
    async destroy() {
      if (running) await stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
