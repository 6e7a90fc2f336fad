import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticExport } from './support/export-generator.js';
import { timedProcess, type TimedRun } from './support/timed-process.js';

export interface ParseExportResult {
  messages: number;
  file_mib: number;
  ours_messages_per_s: number;
  ours_seconds: number;
  ours_seconds_runs: number[];
  ours_cpu_seconds: number;
  ours_peak_rss_mib: number;
  /** The same command with --threads 1: one stream, one thread. */
  ours_one_stream_seconds: number;
  ours_one_stream_cpu_seconds: number;
  ours_one_stream_peak_rss_mib: number;
  threads: number;
  baseline_messages_per_s: number;
  baseline_seconds: number;
  baseline_seconds_runs: number[];
  baseline_cpu_seconds: number;
  baseline_peak_rss_mib: number;
  /** Baseline time / our time: how many times faster. */
  ratio: number;
  load_average_1m: number;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const ROUNDS = 3;

/**
 * A generated 1,000,000-message export parsed by `wa-bridge parse-export` and by
 * whatsapp-chat-parser 4 (bench/support/baseline-parse-export.mjs), each as a whole process
 * writing NDJSON to /dev/null, timed with its peak RSS by /usr/bin/time, three rounds each,
 * alternating; the best time of each counts. Both include their start (ours from the bundle
 * bin/wa-bridge.js keeps of the command's sources, made by an untimed run first, as any first
 * call after a change of the sources makes it). Ours runs as called, on its default threads (one
 * per CPU, at most 4), and once more per round with --threads 1, reported beside it. Goals: at
 * least 3x faster, peak RSS under 200 MiB.
 */
export async function benchParseExport(count = Number(process.env.WA_BRIDGE_BENCH_MESSAGES ?? 1_000_000)): Promise<ParseExportResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wab-bench-export-'));
  try {
    const file = path.join(dir, 'WhatsApp Chat with Jane Smith.txt');
    const { bytes } = await writeSyntheticExport(file, count);
    // Untimed: builds the command's start bundle if the sources changed since it was made.
    await timedProcess(process.execPath, ['bridge-server/bin/wa-bridge.js', 'parse-export', '--help'], { cwd: root });
    const load = loadavg()[0]!;
    // The machine is shared: run each three times, alternating, and keep each one's best run.
    const ours: TimedRun[] = [];
    const oneStream: TimedRun[] = [];
    const theirs: TimedRun[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      ours.push(await timedProcess(process.execPath, ['bridge-server/bin/wa-bridge.js', 'parse-export', file], { cwd: root }));
      theirs.push(await timedProcess(process.execPath, ['--max-old-space-size=8192', 'bench/support/baseline-parse-export.mjs', file], { cwd: root }));
      oneStream.push(await timedProcess(process.execPath, ['bridge-server/bin/wa-bridge.js', 'parse-export', '--threads', '1', file], { cwd: root }));
    }
    const failed = [...ours, ...oneStream, ...theirs].find((r) => r.code !== 0);
    if (failed) throw new Error(`a parse run failed: ${failed.stderr}`);
    const best = (runs: TimedRun[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const [o, one, t] = [best(ours), best(oneStream), best(theirs)];
    const perSecond = (seconds: number) => Math.round(count / seconds);
    return {
      messages: count,
      file_mib: Math.round((bytes / 1024 / 1024) * 10) / 10,
      ours_messages_per_s: perSecond(o.seconds),
      ours_seconds: o.seconds,
      ours_seconds_runs: ours.map((r) => r.seconds),
      ours_cpu_seconds: o.cpuSeconds,
      ours_peak_rss_mib: Math.max(...ours.map((r) => r.peakRssMiB)),
      ours_one_stream_seconds: one.seconds,
      ours_one_stream_cpu_seconds: one.cpuSeconds,
      ours_one_stream_peak_rss_mib: Math.max(...oneStream.map((r) => r.peakRssMiB)),
      threads: Math.min(availableParallelism(), 4),
      baseline_messages_per_s: perSecond(t.seconds),
      baseline_seconds: t.seconds,
      baseline_seconds_runs: theirs.map((r) => r.seconds),
      baseline_cpu_seconds: t.cpuSeconds,
      baseline_peak_rss_mib: Math.max(...theirs.map((r) => r.peakRssMiB)),
      ratio: Math.round((t.seconds / o.seconds) * 100) / 100,
      load_average_1m: Math.round(load * 100) / 100,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
