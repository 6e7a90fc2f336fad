import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { databaseEnvFor } from './test-database.js';

const bin = fileURLToPath(new URL('../../bridge-server/bin/wa-bridge.js', import.meta.url));

export interface BridgeProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr/stdout so far (for failure messages). */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `wa-bridge serve` as a real child process (so a test can SIGKILL it) and waits until
 * /readyz answers. PORT must be set in `env`.
 */
export async function startBridgeProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<BridgeProcess> {
  // WA_BRIDGE_CPU_PROFILE_DIR: write a V8 CPU profile of the bridge process there (benchmarks).
  const profile = process.env.WA_BRIDGE_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.WA_BRIDGE_CPU_PROFILE_DIR}`] : [];
  // WA_BRIDGE_BENCH_NODE_FLAGS: V8/Node flags for the bridge process alone (benchmarks: --trace-gc and the like).
  const flags = process.env.WA_BRIDGE_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const database = env.WA_BRIDGE_DATA_DIR && !env.WA_BRIDGE_DATABASE_URL ? await databaseEnvFor(env.WA_BRIDGE_DATA_DIR) : {};
  const child = spawn(process.execPath, [...profile, ...flags, bin, 'serve'], {
    env: { ...process.env, WA_BRIDGE_LOG_LEVEL: 'warn', ...database, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${env.PORT}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wa-bridge exited with ${child.exitCode} before it was ready:\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`wa-bridge was not ready within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    output: () => output,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
