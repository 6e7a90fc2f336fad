import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { openSealedFile, passphraseKey, passphraseKeyFor, readSealedHeader, sealFile } from '../archive/crypto.js';
import { refuseExisting, writeNewFile } from '../archive/new-file.js';
import { loadCheckpointKey } from '../archive/signing-key.js';
import { loadConfig } from '../config/load.js';
import { BadInputError } from '../core/errors.js';
import { openBlobStore } from '../archive/keyring.js';
import { openExistingDatabase } from '../store/db.js';
import { conversationsOfMatter } from '../store/archive.js';
import { SqlAuditTrail } from '../store/audit.js';
import { recordCli } from './audit.js';
import { chosenTimeZone, parseIsoTime } from './dates.js';
import { exitCodes, runCommand } from './run.js';
import { progressBar } from './progress.js';

/** `wa-bridge export` writes an evidence bundle; `wa-bridge verify-bundle` checks one offline. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write an evidence bundle (zip): each mail as relayed (.eml and mbox), the archived events, media, an HTML and PDF transcript, and a signed manifest of SHA-256 hashes.')
    .requiredOption('--out <file>', 'the zip to write (must not exist)')
    .option('--conversation <chatIds...>', 'chat ids as in the X-WhatsApp-Chat-Id header of the mails')
    .option('--matter <reference>', 'every conversation the matter was ever linked to, each with its events from the time it belonged to the matter (what came before its first link to any matter counts with that link)')
    .option('--from <date>', 'only events at or after this time (ISO 8601, e.g. 2026-01-31 or 2026-01-31T09:00:00Z; without a zone, read in --timezone)')
    .option('--to <date>', 'only events before this time (ISO 8601; without a zone, read in --timezone)')
    .option('--timezone <zone>', 'zone for the times in the transcript (IANA name; default: WA_BRIDGE_TIMEZONE, else this machine\'s zone)')
    .option('--by <name>', 'who is exporting, as recorded in the manifest', userInfo().username)
    .option('--passphrase-file <file>', 'encrypt the bundle (AES-256-GCM, key from the passphrase by scrypt) for handing over; the recipient runs wa-bridge decrypt')
    .action((options: { out: string; conversation?: string[]; matter?: string; from?: string; to?: string; timezone?: string; by: string; passphraseFile?: string }) =>
      runCommand(async () => {
        const named = (options.conversation ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
        if ((named.length === 0) === (options.matter === undefined)) throw new BadInputError('no_selection', 'name what to export: --conversation CHAT_ID (the X-WhatsApp-Chat-Id of its mails) or --matter REF, not both');
        const config = loadConfig();
        const timeZone = chosenTimeZone(options.timezone, config.timeZone);
        // A date or time without a zone is read in the zone the transcript is written in.
        const from = options.from === undefined ? undefined : parseIsoTime('--from', options.from, timeZone);
        const to = options.to === undefined ? undefined : parseIsoTime('--to', options.to, timeZone);
        if (from !== undefined && to !== undefined && from >= to) throw new BadInputError('bad_range', `--from ${options.from} is not before --to ${options.to}: the bundle would hold nothing`);
        const out = path.resolve(options.out);
        await refuseExisting(out, `--out ${options.out}`);
        // A weak passphrase is refused before the work, not after it.
        const sealKey = options.passphraseFile === undefined ? undefined : passphraseKey(await readPassphrase(options.passphraseFile));
        const opened = await openExistingDatabase(config.database);
        const conversations = options.matter === undefined ? named : await conversationsOfMatter(opened.db, options.matter);
        if (conversations === undefined || conversations.length === 0) {
          await opened.close();
          throw new BadInputError('no_selection', conversations === undefined ? `no matter has reference ${options.matter}` : `matter ${options.matter} has no conversations`);
        }
        const scratch = sealKey === undefined ? undefined : await mkdtemp(path.join(tmpdir(), 'wab-seal-'));
        const { exportBundle } = await import('../archive/export/bundle.js');
        const bar = await progressBar('exporting [{bar}] {value}/{total} events and mails');
        try {
          const result = await exportBundle({
            db: opened.db,
            blobs: (await openBlobStore(config, opened.db)).store,
            key: loadCheckpointKey(config.dataDir, config.checkpoints.keyFile),
            out: scratch === undefined ? out : path.join(scratch, 'bundle.zip'),
            outLabel: `--out ${options.out}`,
            selection: { conversations, ...(options.matter !== undefined ? { matter: options.matter } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) },
            timeZone,
            exportedBy: options.by,
            onProgress: (done, total) => {
              if (!bar) return;
              if (done === 1) bar.start(total, 0);
              bar.update(done);
            },
          });
          bar?.stop();
          if (scratch !== undefined) await writeNewFile(out, (temp) => sealFile(sealKey!, path.join(scratch, 'bundle.zip'), temp, 'evidence-bundle'), `--out ${options.out}`);
          await recordCli(new SqlAuditTrail(opened.db), {
            action: 'export',
            target: options.matter !== undefined ? `matter:${options.matter}` : conversations.map((id) => `conversation:${id}`).join(','),
            // Every conversation by chat id, so the trail answers "who exported conversation X" for matter exports too.
            details: { file: out, sha256: result.sha256, events: result.events, by: options.by, from: options.from ?? null, to: options.to ?? null, encrypted: scratch !== undefined, conversations: conversations.join(',') },
          });
          process.stdout.write(`${out}: ${result.events} event(s), ${result.mails} mail(s), ${result.files} file(s); SHA-256 ${result.sha256}${scratch !== undefined ? ' (of the zip inside; encrypted with the passphrase)' : ''}\n`);
        } finally {
          bar?.stop();
          await opened.close();
          if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
        }
      }),
    );
  program
    .command('verify-bundle')
    .description('Check an evidence bundle offline: signature, every file hash, nothing missing or added, the event chain; exit 0 only when it is exactly as exported.')
    .argument('<file>', 'the bundle (zip)')
    .option('--trusted-key <key...>', 'also require the bundle to be signed by one of these public keys')
    .option('--passphrase-file <file>', 'the passphrase of an encrypted bundle')
    .action((file: string, options: { trustedKey?: string[]; passphraseFile?: string }) =>
      runCommand(async () => {
        const { verifyBundle } = await import('../archive/export/verify-bundle.js');
        const bundle = path.resolve(file);
        // A file that is not there is a usage error; one that is there and does not check out is a failed check.
        const found = await stat(bundle).then(
          (info) => info.isFile(),
          () => false,
        );
        if (!found) throw new BadInputError('no_bundle', `${file}: no such bundle file`);
        let report;
        try {
          report = await withOpenedBundle(bundle, options.passphraseFile, (zip) => verifyBundle(zip, options.trustedKey ?? []));
        } catch (error) {
          if (!(error instanceof BadInputError) || !sealFailures.has(error.code)) throw error;
          process.stdout.write(`FAIL ${error.message}\nFAILED 1 problem(s)\n`);
          return exitCodes.failure;
        }
        for (const problem of report.problems) process.stdout.write(`FAIL ${problem}\n`);
        if (report.ok) {
          const trust = report.trusted === true ? 'a trusted key' : `key ${report.publicKey} (compare it with the archive's checkpoint key)`;
          process.stdout.write(`OK ${report.files} file(s) exactly as exported; manifest signed by ${trust}\n`);
        } else {
          process.stdout.write(`FAILED ${report.problems.length} problem(s)\n`);
        }
        return report.ok ? exitCodes.ok : exitCodes.failure;
      }),
    );
  program
    .command('decrypt')
    .description('Decrypt a bundle exported with --passphrase-file, giving the zip that verify-bundle and any unzip tool read.')
    .argument('<file>', 'the encrypted bundle')
    .requiredOption('--passphrase-file <file>', 'the passphrase it was encrypted with')
    .requiredOption('--out <file>', 'the zip to write (must not exist)')
    .action((file: string, options: { passphraseFile: string; out: string }) =>
      runCommand(async () => {
        const source = path.resolve(file);
        const out = path.resolve(options.out);
        const label = `--out ${options.out}`;
        await refuseExisting(out, label);
        const key = await passphraseKeyFor(source, await readPassphrase(options.passphraseFile));
        await writeNewFile(out, (temp) => openSealedFile(key, source, temp), label);
        process.stdout.write(`${out}: decrypted; check it with wa-bridge verify-bundle\n`);
      }),
    );
}

/** How opening an encrypted bundle fails when its bytes are not the ones it was sealed with (a wrong passphrase stays a usage error). */
const sealFailures = new Set(['truncated', 'tampered']);

/** A passphrase from a file (never from the command line, where other users could read it). */
async function readPassphrase(file: string): Promise<string> {
  const text = (await readFile(file, 'utf8').catch(() => {
    throw new BadInputError('no_passphrase', `--passphrase-file: ${file} cannot be read`);
  })).replace(/\r?\n$/, '');
  return text;
}

/** Runs `body` on the bundle's zip: the file itself, or its decryption in a private scratch dir. */
async function withOpenedBundle<T>(file: string, passphraseFile: string | undefined, body: (zip: string) => Promise<T>): Promise<T> {
  const sealed = await readSealedHeader(file).then(
    () => true,
    () => false,
  );
  if (!sealed) return body(file);
  if (passphraseFile === undefined) throw new BadInputError('encrypted_bundle', `${file} is encrypted: give its --passphrase-file`);
  const scratch = await mkdtemp(path.join(tmpdir(), 'wab-open-'));
  try {
    const zip = path.join(scratch, 'bundle.zip');
    await openSealedFile(await passphraseKeyFor(file, await readPassphrase(passphraseFile)), file, zip);
    return await body(zip);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
