import { newProgram, parseProgram } from './run.js';
import { registerParseExport } from './parse-export.js';

/**
 * `wa-bridge parse-export` on its own: other tools call it once per file, so it loads the parser
 * and nothing of the server (the full command set costs seconds and over 100 MiB to load).
 * Same command, options and output as through index.ts.
 */
export async function main(argv: string[], bundle?: { threads?: Record<string, string> }): Promise<void> {
  const program = newProgram();
  registerParseExport(program, { url: bundle?.threads?.['export-pieces'] });
  await parseProgram(program, argv);
}
