import { execFile } from 'node:child_process';
import path from 'node:path';
import { databaseEnvFor } from './test-database.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the command did not end by itself within the time given and was killed. */
  killedAfterMs?: number;
}

/**
 * Runs the real `wa-bridge` command on a data dir, as an operator would at the bridge's host,
 * and resolves with its exit code and output; never rejects, so tests can check failures too.
 */
export async function runWaBridge(dataDir: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CommandResult> {
  const database = await databaseEnvFor(dataDir);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bridge-server/bin/wa-bridge.js', ...args],
      { cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, WA_BRIDGE_DATA_DIR: dataDir, WA_BRIDGE_LOG_LEVEL: 'silent', ...database, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, ...(error?.killed && error.signal === 'SIGKILL' ? { killedAfterMs: timeoutMs } : {}) }),
    );
  });
}
