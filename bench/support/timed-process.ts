import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TimedRun {
  seconds: number;
  /** User plus system CPU time: what the work cost, whatever else the machine was doing. */
  cpuSeconds: number;
  peakRssMiB: number;
  code: number | null;
  stderr: string;
}

/**
 * Runs a command as its own process under /usr/bin/time (GNU time: elapsed seconds, CPU seconds
 * and maximum resident set size of the process), stdout to /dev/null unless `stdoutFile` is given.
 */
export async function timedProcess(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; stdoutFile?: string }): Promise<TimedRun> {
  const timeFile = path.join(tmpdir(), `wab-time-${process.pid}-${Date.now()}.txt`);
  const stdout = openSync(options.stdoutFile ?? '/dev/null', 'w');
  try {
    const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, command, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 10_000) stderr += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const [seconds, kib, user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    return { seconds: seconds!, cpuSeconds: Math.round((user! + system!) * 100) / 100, peakRssMiB: Math.round((kib! / 1024) * 10) / 10, code, stderr };
  } finally {
    closeSync(stdout);
    rmSync(timeFile, { force: true });
  }
}
