import { registerAudit } from './audit.js';
import { registerBackup } from './backup.js';
import { registerConfig } from './config.js';
import { registerImport } from './import.js';
import { registerExport } from './export.js';
import { registerJobs } from './jobs.js';
import { registerKeys } from './keys.js';
import { registerParseExport } from './parse-export.js';
import { registerReplyText } from './reply-text.js';
import { registerRetention } from './retention.js';
import { registerServe } from './serve.js';
import { registerSimulate } from './simulate.js';
import { newProgram, parseProgram } from './run.js';
import { registerVerify } from './verify.js';

/** The `wa-bridge` command: one file per command, wired here. */
export async function main(argv: string[], bundle?: { threads?: Record<string, string>; version?: string }): Promise<void> {
  const program = newProgram()
    .description('Relays WhatsApp client conversations into the firm mailbox as threaded, journaled email.')
    .configureHelp({ sortSubcommands: true });
  if (bundle?.version !== undefined) program.version(bundle.version, '-V, --version', 'print the version of wa-bridge');
  // From the serve bundle, the MIME composer's and the SMTP client's threads start from their own
  // entries in that bundle.
  registerServe(program, { composeThread: bundle?.threads?.compose, smtpThread: bundle?.threads?.smtp, documentTextThread: bundle?.threads?.documentText });
  registerSimulate(program);
  registerConfig(program);
  registerJobs(program);
  registerReplyText(program);
  registerParseExport(program);
  registerImport(program);
  registerVerify(program);
  registerExport(program);
  registerAudit(program);
  registerRetention(program);
  registerBackup(program);
  registerKeys(program);
  await parseProgram(program, argv);
}
