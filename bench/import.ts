import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { openSqlite } from '../bridge-server/src/store/db.js';
import { countEvents } from '../bridge-server/src/store/events.js';
import { writeSyntheticExport } from './support/export-generator.js';
import { timedProcess } from './support/timed-process.js';

export interface ImportBenchResult {
  messages: number;
  seconds: number;
  cpu_seconds: number;
  messages_per_s: number;
  peak_rss_mib: number;
  events_stored: number;
  search_indexed: number;
  load_average_1m: number;
}

const root = fileURLToPath(new URL('../', import.meta.url));

/**
 * `wa-bridge import` of a generated 1,000,000-message export into an empty SQLite archive, as its
 * own process under /usr/bin/time: parse (both passes and the validation read), zone conversion,
 * chain hashing, event rows and the search index the events trigger feeds. Goals: at most 45 s,
 * under 300 MiB.
 */
export async function benchImport(count = Number(process.env.WA_BRIDGE_BENCH_MESSAGES ?? 1_000_000)): Promise<ImportBenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wab-bench-import-'));
  try {
    const file = path.join(dir, 'WhatsApp Chat with Jane Smith.txt');
    await writeSyntheticExport(file, count);
    const dataDir = path.join(dir, 'data');
    const load = loadavg()[0]!;
    const run = await timedProcess(
      process.execPath,
      ['bridge-server/bin/wa-bridge.js', 'import', file, '--client-phone', '+447700900123', '--firm-author', 'Tom Baker', '--timezone', 'Europe/London'],
      { cwd: root, env: { ...process.env, WA_BRIDGE_DATA_DIR: dataDir } },
    );
    if (run.code !== 0) throw new Error(`import failed: ${run.stderr}`);
    const opened = openSqlite(path.join(dataDir, 'wa-bridge.sqlite'));
    try {
      const stored = await countEvents(opened.db);
      const search = await searchCount(opened);
      return {
        messages: count,
        seconds: run.seconds,
        cpu_seconds: run.cpuSeconds,
        messages_per_s: Math.round(count / run.seconds),
        peak_rss_mib: run.peakRssMiB,
        events_stored: stored,
        search_indexed: search,
        load_average_1m: Math.round(load * 100) / 100,
      };
    } finally {
      await opened.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Rows in the search index, 0 when this archive has none. */
async function searchCount(opened: ReturnType<typeof openSqlite>): Promise<number> {
  const exists = await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE name = 'message_search'`.execute(opened.db);
  if (Number(exists.rows[0]?.n ?? 0) === 0) return 0;
  const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM message_search`.execute(opened.db);
  return Number(rows.rows[0]?.n ?? 0);
}
