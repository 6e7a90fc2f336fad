import { newProgram, parseProgram } from './run.js';
import { registerImport } from './import.js';

/**
 * `wa-bridge import` on its own: a long import needs the store and the parser, not the server's
 * HTTP, mail and WhatsApp clients, whose loading costs seconds and over 100 MiB of memory that
 * the import then holds for its whole run. Same command, options and output as through index.ts.
 */
export async function main(argv: string[], bundle?: { threads?: Record<string, string> }): Promise<void> {
  const program = newProgram();
  registerImport(program, { url: bundle?.threads?.['import-events'] });
  await parseProgram(program, argv);
}
