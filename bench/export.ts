import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeZip } from '../bridge-server/src/channels/chat-export/zip-builder.js';
import { openSqlite } from '../bridge-server/src/store/db.js';
import { createMatter } from '../bridge-server/src/store/matters.js';
import { writeSyntheticExport } from './support/export-generator.js';
import { gradientPng } from '../tests/support/png.js';
import { timedProcess } from './support/timed-process.js';

export interface ExportBenchResult {
  messages: number;
  seconds: number;
  cpu_seconds: number;
  messages_per_s: number;
  peak_rss_mib: number;
  bundle_mib: number;
  bundle_files: number;
  verified: boolean;
  verify_seconds: number;
  load_average_1m: number;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);
const matter = 'BENCH/2026/0001';
const chatName = 'WhatsApp Chat with Jane Smith';

/**
 * The evidence bundle of a matter whose one conversation holds `count` messages (a generated
 * Android export with a few photos, brought in by the real `wa-bridge import`), written by the
 * real `wa-bridge export --matter` as its own process under /usr/bin/time, then checked by
 * `wa-bridge verify-bundle`, so a fast but broken bundle fails the run. Goal: under 60 s.
 */
export async function benchExport(count = Number(process.env.WA_BRIDGE_BENCH_MESSAGES ?? 100_000), photos = 24): Promise<ExportBenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wab-bench-export-'));
  try {
    const dataDir = path.join(dir, 'data');
    const env: NodeJS.ProcessEnv = { ...process.env, WA_BRIDGE_DATA_DIR: dataDir, WA_BRIDGE_LOG_LEVEL: 'silent' };
    delete env.WA_BRIDGE_DATABASE_URL;
    const text = path.join(dir, `${chatName}.txt`);
    await writeSyntheticExport(text, count);
    const chat = await readFile(text);
    // The first photos the chat announces travel in the zip, as WhatsApp's "attach media" does.
    const names = [...new Set([...chat.toString('latin1').matchAll(/(IMG-\d{8}-WA\d{4}\.jpg) \(file attached\)/g)].map((m) => m[1]!))].slice(0, photos);
    const zip = path.join(dir, `${chatName}.zip`);
    await writeZip(zip, [{ name: `${chatName}.txt`, bytes: chat }, ...names.map((name, i) => ({ name, bytes: gradientPng(320, 240, i), compress: false }))]);

    const opened = openSqlite(path.join(dataDir, 'wa-bridge.sqlite'));
    try {
      await createMatter(opened.db, { reference: matter, title: 'Smith v Baker Lettings', matterType: 'property', members: [], createdBy: 'bench' }, Date.now());
    } finally {
      await opened.close();
    }
    const cli = (...args: string[]) => run(process.execPath, ['bridge-server/bin/wa-bridge.js', ...args], { cwd: root, env, maxBuffer: 1 << 24 });
    await cli('import', zip, '--client-phone', '+447700900123', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London', '--matter', matter, '--by', 'bench');
    // Builds the command bundle if a source changed, so the timed run measures the export alone.
    await cli('export', '--help');

    const bundle = path.join(dir, 'bundle.zip');
    const stdout = path.join(dir, 'export.out');
    const load = loadavg()[0]!;
    const exported = await timedProcess(process.execPath, ['bridge-server/bin/wa-bridge.js', 'export', '--matter', matter, '--out', bundle, '--timezone', 'Europe/London', '--by', 'bench'], { cwd: root, env, stdoutFile: stdout });
    if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr}`);
    const summary = await readFile(stdout, 'utf8');
    const events = Number(/: (\d+) event\(s\)/.exec(summary)?.[1] ?? Number.NaN);
    if (events !== count) throw new Error(`export holds ${events} events, expected ${count}: ${summary}`);

    const started = performance.now();
    const verified = await cli('verify-bundle', bundle).then(
      (result) => result.stdout.startsWith('OK '),
      (error: { stdout?: string }) => {
        throw new Error(`verify-bundle refused the bundle: ${error.stdout ?? String(error)}`);
      },
    );
    const verifySeconds = (performance.now() - started) / 1000;
    const bundleFiles = Number(/(\d+) file\(s\)/.exec(summary)?.[1] ?? 0);
    return {
      messages: events,
      seconds: exported.seconds,
      cpu_seconds: exported.cpuSeconds,
      messages_per_s: Math.round(events / exported.seconds),
      peak_rss_mib: exported.peakRssMiB,
      bundle_mib: Math.round(((await stat(bundle)).size / 1024 / 1024) * 10) / 10,
      bundle_files: bundleFiles,
      verified,
      verify_seconds: Math.round(verifySeconds * 100) / 100,
      load_average_1m: Math.round(load * 100) / 100,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
