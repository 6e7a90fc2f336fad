import { execFile } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `wa-bridge` command on a data dir, as an operator would at the bridge's host,
 * and resolves with its exit code and output; never rejects, so tests can check failures too.
 */
export function runWaBridge(dataDir: string, args: readonly string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bridge-server/bin/wa-bridge.js', ...args],
      { cwd: root, encoding: 'utf8', env: { ...process.env, WA_BRIDGE_DATA_DIR: dataDir, WA_BRIDGE_LOG_LEVEL: 'silent', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
