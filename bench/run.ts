import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { benchDocuments } from './documents.js';
import { benchExport } from './export.js';
import { benchImport } from './import.js';
import { benchMemory } from './memory.js';
import { benchParseExport } from './parse-export.js';
import { benchRelay } from './relay.js';
import { benchReplyText } from './reply-text.js';
import { benchSearch } from './search.js';

/**
 * `npm run bench [-- NAME ...]`: runs the named benchmarks (all when none is named), prints a
 * table and merges the figures into bench/results.json under each benchmark's key.
 */
const benchmarks: Record<string, () => Promise<object>> = {
  relay: () => benchRelay(),
  relay_postgres: () => benchRelay({ database: 'postgres' }),
  reply_text: () => benchReplyText(),
  parse_export: () => benchParseExport(),
  import: () => benchImport(),
  search: () => benchSearch(),
  search_postgres: () => benchSearch({ database: 'postgres' }),
  export: () => benchExport(),
  memory: () => benchMemory(),
  documents: () => benchDocuments(),
};

const resultsFile = fileURLToPath(new URL('./results.json', import.meta.url));

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const selected = names.length > 0 ? names : Object.keys(benchmarks);
  const results: Record<string, unknown> = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '{}'));
  for (const name of selected) {
    process.stderr.write(`running ${name} ...\n`);
    const result = await benchmarks[name]!();
    results[name] = { ...result, measured_at: new Date().toISOString() };
    console.table(Object.entries(result).map(([metric, value]) => ({ benchmark: name, metric, value })));
  }
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`wrote ${resultsFile}\n`);
}

await main();
