import path from 'node:path';
import type { Command } from 'commander';
import { eraseConversations, runRetention, type RetentionDeps, type RetentionOutcome, type RetentionRun } from '../archive/retention.js';
import { refuseExisting } from '../archive/new-file.js';
import { loadCheckpointKey } from '../archive/signing-key.js';
import { loadConfig, type Config } from '../config/load.js';
import { BadInputError, NotFoundError } from '../core/errors.js';
import { phoneProblem, subjectTarget, waIdOfPhone } from '../core/subject.js';
import { SqlAuditTrail } from '../store/audit.js';
import { mediaStoreAt } from '../store/blob-store.js';
import { openBlobStore } from '../archive/keyring.js';
import { getConversationByToken } from '../store/conversations.js';
import { openExistingDatabase, type OpenedDatabase } from '../store/db.js';
import { findMatterByReference } from '../store/matters.js';
import { findConversationsByClient, listDeletionCertificates, listHolds, placeHold, releaseHold, type Sweep } from '../store/retention.js';
import { cliActor, recordCli } from './audit.js';
import { chosenTimeZone } from './dates.js';
import { runCommand } from './run.js';

/**
 * `wa-bridge retention`, `wa-bridge hold` and `wa-bridge gdpr`: the compliance officer's tools on
 * the bridge's host. Every one of them is recorded in the audit trail.
 */
export function registerRetention(program: Command): void {
  const retention = program.command('retention').description('Retention: delete what the periods of WA_BRIDGE_RETENTION_YEARS have expired, with deletion certificates.');
  retention
    .command('run')
    .description('Delete every conversation whose retention has run out and that no legal hold covers; --dry-run only lists them.')
    .option('--dry-run', 'decide and list, delete nothing')
    .option('--verbose', 'also list the conversations kept, and why')
    .option('--rewrite-tables', 'PostgreSQL: after deleting, rewrite the tables the rows were in (VACUUM FULL) so no copy stays in the database files; locks each table while it runs')
    .action((options: { dryRun?: boolean; verbose?: boolean; rewriteTables?: boolean }) =>
      withStore(async ({ config, opened }) => {
        const run = await runRetention(await retentionDeps(config, opened, options), config.retention.policy, options.dryRun === true);
        printOutcomes(run, options.verbose === true);
      }),
    );

  retention
    .command('certificates')
    .description('List the deletion certificates (what retention and erasure deleted, when and why); with --conversation, print that conversation\'s certificate itself.')
    .option('--conversation <chatId>', 'the deleted conversation (X-WhatsApp-Chat-Id)')
    .action((options: { conversation?: string }) =>
      withStore(async ({ opened }) => {
        const certificates = await listDeletionCertificates(opened.db, options.conversation);
        if (options.conversation !== undefined) {
          if (certificates.length === 0) throw new NotFoundError(`no deletion certificate for conversation ${options.conversation}: it was not deleted here`);
          // The certificate exactly as stored (its SHA-256 is over these bytes), one per line.
          for (const certificate of certificates) process.stdout.write(`${certificate.json}\n`);
          return;
        }
        for (const c of certificates) {
          process.stdout.write(`${c.id}\t${c.chatId}\tdeleted ${new Date(c.deletedAt).toISOString()}\t${c.reason}\t${c.lastSeq} event(s)\tsha256:${c.sha256}\n`);
        }
      }),
    );

  const hold = program.command('hold').description('Legal holds: while one is in force, nothing of its matter or conversation is deleted.');
  hold
    .command('place')
    .description('Place a legal hold on a matter or a conversation.')
    .option('--matter <reference>', 'the matter reference')
    .option('--conversation <chatId>', 'the conversation (X-WhatsApp-Chat-Id)')
    .requiredOption('--reason <text>', 'why, e.g. the litigation or regulator request')
    .option('--by <name>', 'who placed it, as the hold and the audit trail record it (default: the user running the command)')
    .action((options: { matter?: string; conversation?: string; reason: string; by?: string }) =>
      withStore(async ({ opened }) => {
        if ((options.matter === undefined) === (options.conversation === undefined)) throw new BadInputError('bad_scope', 'give exactly one of --matter REF or --conversation CHAT_ID');
        const reason = requiredText('--reason', options.reason);
        const by = options.by === undefined ? cliActor().actor : requiredText('--by', options.by);
        const scope = options.matter !== undefined ? { matterId: await matterId(opened, options.matter) } : { conversationId: await conversationId(opened, options.conversation!) };
        // Holds for different proceedings may cover the same record; each is placed, and each one already there is named.
        const already = (await listHolds(opened.db, false)).filter((h) =>
          options.matter !== undefined ? h.matterReference?.toLowerCase() === options.matter.toLowerCase() : h.chatId === options.conversation,
        );
        const id = await placeHold(opened.db, { ...scope, reason, placedBy: by, at: Date.now() });
        const target = options.matter !== undefined ? `matter:${options.matter}` : `conversation:${options.conversation}`;
        await recordCli(new SqlAuditTrail(opened.db), { action: 'hold.place', target, details: { hold: id, reason, by } });
        process.stdout.write(`hold ${id} placed on ${target.replace(':', ' ')}\n`);
        for (const h of already) process.stdout.write(`also in force on it: hold ${h.id} (${h.reason})\n`);
      }),
    );
  hold
    .command('release')
    .description('Release a legal hold (the hold stays on record as released).')
    .argument('<id>', 'the hold id, as `hold list` shows it')
    .requiredOption('--reason <text>', 'why it is released, e.g. the proceedings ended (kept in the audit trail)')
    .option('--by <name>', 'who released it (default: the user running the command)')
    .action((id: string, options: { reason: string; by?: string }) =>
      withStore(async ({ opened }) => {
        if (!/^\d+$/.test(id)) throw new BadInputError('bad_id', `expected a hold id (a number), got ${JSON.stringify(id)}`);
        const reason = requiredText('--reason', options.reason);
        const by = options.by === undefined ? cliActor().actor : requiredText('--by', options.by);
        if (!(await releaseHold(opened.db, Number(id), { by, reason, at: Date.now() }))) throw new NotFoundError(`no hold ${id} is in force`);
        await recordCli(new SqlAuditTrail(opened.db), { action: 'hold.release', target: `hold:${id}`, details: { reason, by } });
        process.stdout.write(`hold ${id} released\n`);
      }),
    );
  hold
    .command('list')
    .description('List the holds in force (--all: released ones too).')
    .option('--all', 'include released holds')
    .action((options: { all?: boolean }) =>
      withStore(async ({ opened }) => {
        for (const h of await listHolds(opened.db, options.all === true)) {
          const on = h.matterReference !== null ? `matter ${h.matterReference}` : `conversation ${h.chatId ?? '(deleted)'}`;
          const state = h.releasedAt === null ? 'in force' : `released ${new Date(h.releasedAt).toISOString()} by ${h.releasedBy}${h.releaseReason === null ? '' : ` (${h.releaseReason})`}`;
          process.stdout.write(`${h.id}\t${on}\t${state}\tplaced ${new Date(h.placedAt).toISOString()} by ${h.placedBy}\t${h.reason}\n`);
        }
      }),
    );

  const gdpr = program.command('gdpr').description("Data subjects' requests, for one phone number or WhatsApp user across all matters.");
  gdpr
    .command('access')
    .description('Subject access: an evidence bundle of every conversation with this person.')
    .option('--phone <number>', 'the person\'s WhatsApp number, international form')
    .option('--user <id>', 'or their WhatsApp user id (business-scoped, as the Cloud API gives it)')
    .requiredOption('--out <file>', 'the zip to write (must not exist)')
    .option('--timezone <zone>', 'zone for the transcript times (IANA name; default: WA_BRIDGE_TIMEZONE, else this machine\'s zone)')
    .action((options: { phone?: string; user?: string; out: string; timezone?: string }) =>
      withStore(async ({ config, opened }) => {
        const timeZone = chosenTimeZone(options.timezone, config.timeZone);
        await refuseExisting(path.resolve(options.out), `--out ${options.out}`);
        const chatIds = (await conversationsOf(opened, options)).map((conversation) => conversation.chatToken);
        const { exportBundle } = await import('../archive/export/bundle.js');
        const result = await exportBundle({
          db: opened.db,
          blobs: (await openBlobStore(config, opened.db)).store,
          key: loadCheckpointKey(config.dataDir, config.checkpoints.keyFile),
          out: path.resolve(options.out),
          outLabel: `--out ${options.out}`,
          selection: { conversations: chatIds },
          timeZone,
          exportedBy: `${cliActor().actor} (subject access request)`,
        });
        await recordCli(new SqlAuditTrail(opened.db), { action: 'gdpr.access', target: subjectOf(options), details: { file: result.path, sha256: result.sha256, conversations: chatIds.length, chatIds: chatIds.join(',') } });
        process.stdout.write(`${result.path}: ${chatIds.length} conversation(s), ${result.events} event(s); SHA-256 ${result.sha256}\n`);
      }),
    );
  gdpr
    .command('erase')
    .description('Erasure request: delete the conversations with this person where no retention duty or hold applies; refuse the rest, saying why.')
    .option('--phone <number>', 'the person\'s WhatsApp number, international form')
    .option('--user <id>', 'or their WhatsApp user id (business-scoped, as the Cloud API gives it)')
    .requiredOption('--request <reference>', 'the request\'s reference, recorded with each deletion')
    .option('--dry-run', 'decide and list, delete nothing')
    .option('--rewrite-tables', 'PostgreSQL: after deleting, rewrite the tables the rows were in (VACUUM FULL) so no copy stays in the database files; locks each table while it runs')
    .action((options: { phone?: string; user?: string; request: string; dryRun?: boolean; rewriteTables?: boolean }) =>
      withStore(async ({ config, opened }) => {
        const ids = (await conversationsOf(opened, options)).map((conversation) => conversation.id);
        printOutcomes(await eraseConversations(await retentionDeps(config, opened, options), config.retention.policy, ids, options.request, options.dryRun === true), true);
      }),
    );
}

function withStore(body: (context: { config: Config; opened: OpenedDatabase }) => Promise<void>): Promise<void> {
  return runCommand(async () => {
    const config = loadConfig();
    const opened = await openExistingDatabase(config.database);
    try {
      await body({ config, opened });
    } finally {
      await opened.close();
    }
  });
}

async function retentionDeps(config: Config, opened: OpenedDatabase, options: { rewriteTables?: boolean }): Promise<RetentionDeps> {
  // Removing needs no data keys: the store is opened without them.
  const blobs = await mediaStoreAt(config.mediaStore);
  return { db: opened.db, removeBlob: (hash: string) => blobs.remove(hash), audit: new SqlAuditTrail(opened.db), actor: cliActor(), now: Date.now(), sweep: options.rewriteTables ? 'rewrite' : 'prune' };
}

const sweptLines: Record<Sweep, string> = {
  overwritten: 'the deleted rows were overwritten in the database file (SQLite)',
  pruned: 'the deleted rows were pruned from their tables (PostgreSQL VACUUM); --rewrite-tables also rewrites the table files',
  rewritten: 'the tables the deleted rows were in were rewritten (PostgreSQL VACUUM FULL)',
};

function printOutcomes({ outcomes, swept, sweepProblem }: RetentionRun, verbose: boolean): void {
  for (const outcome of outcomes) {
    // A conversation kept only by a legal hold is always named: the run says what the hold holds back.
    if (outcome.action === 'kept' && !verbose && outcome.held !== true) continue;
    const certificate = outcome.certificateSha256 ? ` (certificate ${outcome.certificateSha256})` : '';
    process.stdout.write(`${outcome.action.replace('_', ' ')} ${outcome.chatId}: ${outcome.why}${certificate}\n`);
  }
  const count = (action: RetentionOutcome['action']) => outcomes.filter((o) => o.action === action).length;
  const held = outcomes.filter((o) => o.held === true).length;
  process.stdout.write(`${count('deleted')} deleted, ${count('would_delete')} would be deleted, ${count('refused')} refused, ${count('kept')} kept${held > 0 ? ` (${held} only by a legal hold)` : ''}\n`);
  if (swept) process.stdout.write(`${sweptLines[swept]}\n`);
  if (sweepProblem) process.stderr.write(`wa-bridge: warning: the deleted rows could not be pruned from their tables, so they stay there as dead rows until autovacuum: ${sweepProblem}\n`);
}

/** A value that must say something: trimmed, one line. */
function requiredText(option: string, value: string): string {
  const text = value.replace(/\s+/g, ' ').trim();
  if (text.length < 3) throw new BadInputError('bad_text', `${option}: say it in a few words, got ${JSON.stringify(value)}`);
  return text;
}

/** The data subject as the audit trail names them. */
const subjectOf = (who: { phone?: string; user?: string }): string => subjectTarget(who.phone !== undefined ? { waId: waIdOfPhone(who.phone) } : { userId: who.user! });

async function conversationsOf(opened: OpenedDatabase, who: { phone?: string; user?: string }): Promise<Array<{ id: number; chatToken: string }>> {
  if ((who.phone === undefined) === (who.user === undefined)) throw new BadInputError('bad_subject', 'name the person by exactly one of --phone NUMBER or --user WHATSAPP_USER_ID');
  let found: Array<{ id: number; chatToken: string }>;
  if (who.phone !== undefined) {
    const waId = waIdOfPhone(who.phone);
    const problem = phoneProblem(waId);
    if (problem === 'national') throw new BadInputError('bad_phone', `--phone: ${JSON.stringify(who.phone)} is a national number; give it with its country code, such as +44 7700 900123 for 07700 900123`);
    if (problem) throw new BadInputError('bad_phone', `--phone: expected an international number such as +44 7700 900123, got ${JSON.stringify(who.phone)}`);
    found = await findConversationsByClient(opened.db, { waId });
  } else {
    found = await findConversationsByClient(opened.db, { userId: who.user! });
  }
  if (found.length === 0) throw new NotFoundError(`no conversation with ${subjectOf(who).replace(':', ' ')} is in the archive`);
  return found;
}

async function matterId(opened: OpenedDatabase, reference: string): Promise<number> {
  const id = await findMatterByReference(opened.db, reference);
  if (id === undefined) throw new NotFoundError(`no matter has reference ${reference}`);
  return id;
}

async function conversationId(opened: OpenedDatabase, chatId: string): Promise<number> {
  const conversation = await getConversationByToken(opened.db, chatId);
  if (!conversation) throw new NotFoundError(`no conversation has chat id ${chatId}`);
  return conversation.id;
}
