import type { Command } from 'commander';
import { availableParallelism, userInfo } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { BadInputError, NotFoundError } from '../core/errors.js';
import type { ConversationRecord } from '../core/records.js';
import { WallClock } from '../core/wall-time.js';
import { prepareOnThread } from '../channels/chat-export/import-events.js';
import { openExportReader } from '../channels/chat-export/read.js';
import { hashFile, openExportSource } from '../channels/chat-export/source.js';
import { importExport, openImportConversation, scanExport, type ExportScan, type PrepareGroups } from '../flows/import.js';
import { prepareHere } from '../flows/import-prepare.js';
import { openDatabase } from '../store/db.js';
import { conversationsByPhone, conversationsOfMatter, SqlImportStore } from '../store/imports.js';
import { findMatterByReference, insertLink, listLinks } from '../store/matters.js';
import { openBlobStore } from '../archive/keyring.js';
import { SqlStore } from '../store/sql-store.js';
import type { Executor } from '../store/executor.js';
import { parseDateOrder } from './parse-export.js';
import { progressBar } from './progress.js';
import { runCommand } from './run.js';
import { recordCli } from './audit.js';
import { decideRetention } from '../core/retention.js';
import { listRetentionFacts } from '../store/retention.js';
import { SqlAuditTrail } from '../store/audit.js';

export interface ImportOptions {
  conversation?: string;
  matter?: string;
  clientPhone?: string;
  firmAuthor: string[];
  timezone?: string;
  dateOrder?: string;
  businessId: string;
  by: string;
  mirror?: boolean;
  threads?: string;
}

export const mirrorNote =
  'note: mirrored mails are queued now and carry the original dates in their Date header, but journaling (Exchange, Mimecast) records them when they are sent, not at those dates; the Graph import route is not journaled at all.';

/**
 * `wa-bridge import FILE`: a chat export into the archive as messages of one conversation, with
 * their original times. Exit 0 with a summary line; exit 2 with one `wa-bridge: …` line and
 * nothing stored for a bad file, an unknown conversation or matter, or authors it cannot place.
 */
/** Where the import's event thread starts: the command's bundle names its own entry. */
export interface ImportThreads {
  url?: string;
}

/** Below this many messages an import builds its events itself: a thread would cost more than it saves. */
const THREAD_FROM_MESSAGES = 20_000;

export function registerImport(program: Command, threads: ImportThreads = {}): void {
  program
    .command('import')
    .description('Import a WhatsApp "Export chat" file (.txt or .zip) into the archive as messages of a conversation.')
    .argument('<file>', 'the exported .txt, or the .zip WhatsApp makes with media')
    .option('--conversation <id>', "the conversation: its chat id (the X-WhatsApp-Chat-Id header) or its number")
    .option('--matter <ref>', 'a matter reference: its one linked conversation, or link the conversation imported into')
    .option('--client-phone <number>', "the client's number (+44 7700 900123): its conversation, created if there is none")
    .option('--firm-author <name>', 'an author in the export who is the firm (repeatable); the others are the client', collect, [])
    .option('--timezone <zone>', "IANA zone the export was written in (its times carry none); default: WA_BRIDGE_TIMEZONE, else this machine's zone")
    .option('--date-order <order>', 'dmy, mdy or ymd: overrides the order inferred from the whole file')
    .option('--business-id <id>', 'the firm number id for a conversation created here', 'chat-export')
    .option('--by <name>', 'who is importing, recorded with the import', userInfo().username)
    .option('--mirror', 'also queue one mail per message to the mailbox (off by default)')
    .option('--threads <n>', `1 builds the events in the thread that stores them; 2 on a thread of their own (the default on two or more CPUs for ${THREAD_FROM_MESSAGES.toLocaleString('en')} messages or more)`)
    .action((file: string, options: ImportOptions) => runCommand(() => runImport(file, options, threads)));
}

/** `--threads`: 1 or 2, or undefined to choose by the CPUs and the export's size. */
function parseImportThreads(value: string | undefined): 1 | 2 | undefined {
  if (value === undefined) return undefined;
  if (value === '1' || value === '2') return Number(value) as 1 | 2;
  throw new BadInputError('bad_threads', `--threads: expected 1 or 2, got ${JSON.stringify(value)}`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export async function runImport(file: string, options: ImportOptions, threads: ImportThreads = {}): Promise<void> {
  const config = loadConfig();
  // Every option is checked before the file is read or the database touched.
  const clock = new WallClock(options.timezone ?? config.timeZone);
  const dateOrder = parseDateOrder(options.dateOrder);
  const threadCount = parseImportThreads(options.threads);
  const clientWaId = options.clientPhone === undefined ? undefined : parsePhone(options.clientPhone);
  if (options.conversation === undefined && options.matter === undefined && clientWaId === undefined) {
    throw new BadInputError('no_conversation', 'name the conversation: --conversation ID, --client-phone +44…, or --matter REF');
  }
  const opened = await openDatabase(config.database);
  const source = await openExportSource(file);
  try {
    const store = new SqlStore(opened.db, config.tenant);
    const base = { store, clock: { now: Date.now }, tenant: config.tenant };
    const matterId = options.matter === undefined ? undefined : await resolveMatter(opened.db, options.matter);
    let conversation = await findTarget(opened.db, store, config.tenant, options, clientWaId, matterId);

    const reader = await openExportReader(source, dateOrder);
    const scan = await scanExport(reader);
    const firmAuthors = placeAuthors(scan, options.firmAuthor, conversation);
    const sha256 = await hashFile(file);
    // Opened only after the scan: with blob encryption on, opening may create the first data key,
    // and a refused file must leave the store as it was.
    const deps = { ...base, imports: new SqlImportStore(config.tenant), blobs: (await openBlobStore(config, opened.db)).store };
    if (!conversation) {
      const clients = [...scan.authors.keys()].filter((a) => !firmAuthors.includes(a));
      conversation = await openImportConversation(base, {
        businessId: options.businessId,
        clientWaId: clientWaId!,
        clientName: clients.length === 1 ? clients[0]! : null,
        openedAt: Date.now(),
        mirror: options.mirror === true,
      });
    }
    // On two or more CPUs a large export's events are built on a thread while this one stores them.
    const prepare: PrepareGroups | undefined =
      (threadCount ?? (availableParallelism() >= 2 && scan.messages >= THREAD_FROM_MESSAGES ? 2 : 1)) === 2
        ? prepareOnThread({
            file,
            dateOrder: reader.dateOrder,
            profile: reader.profile,
            threadUrl: threads.url ?? new URL('../channels/chat-export/import-events-thread.js', import.meta.url),
            fallback: (context, skip) => prepareHere(reader.messages(), context, skip),
            warn: (message) => process.stderr.write(`wa-bridge: ${message}\n`),
          })
        : undefined;
    const bar = await progressBar('importing [{bar}] {value}/{total} messages {eta_formatted}');
    bar?.start(scan.messages, 0);
    const result = await importExport(
      deps,
      {
        conversation,
        source: { name: path.basename(file), sha256, size: source.size, kind: source.kind },
        clock,
        dateOrder: reader.dateOrder,
        firmAuthors,
        importedBy: options.by,
        mirror: options.mirror === true,
      },
      reader,
      scan,
      (done) => bar?.update(done),
      prepare,
    ).finally(() => bar?.stop());
    const linkId = matterId === undefined ? undefined : await linkOnce(opened.db, conversation.id, matterId, options.by);
    // On record as the API's imports are: who, which file (by hash), into which conversation.
    const trail = new SqlAuditTrail(opened.db);
    await recordCli(trail, {
      action: 'import',
      target: `conversation:${conversation.chatToken}`,
      details: { importId: result.importId, sha256, messages: result.messages, added: result.added, duplicates: result.duplicates, importedBy: options.by },
    });
    if (linkId !== undefined) {
      const matter = await opened.db.selectFrom('matters').select('reference').where('id', '=', matterId!).executeTakeFirstOrThrow();
      await recordCli(trail, { action: 'matter.link', target: `conversation:${conversation.chatToken}`, details: { matter: matter.reference, linkId } });
    }
    process.stdout.write(
      `import ${result.importId}: ${result.messages} messages read, ${result.added} added, ${result.duplicates} already archived; ` +
        `media ${result.mediaLinked} linked, ${result.mediaMissing} not in the export; conversation ${conversation.id} (chat id ${conversation.chatToken}); ` +
        `times read as ${clock.timeZone}, dates ${reader.dateOrder}; source sha256 ${sha256}\n`,
    );
    // Times the zone's clock changes made missing or double: each was read one way, and the person
    // importing should know which.
    for (const warning of result.warnings) process.stderr.write(`wa-bridge: warning: ${warning}\n`);
    if (options.mirror) process.stderr.write(`${mirrorNote}\n`);
    // History imported to keep it must not be deleted by the next retention run without a word.
    const [facts] = await listRetentionFacts(opened.db, [conversation.id]);
    const decision = facts === undefined ? undefined : decideRetention(facts, config.retention.policy, Date.now());
    if (decision?.expired) {
      process.stderr.write(
        `wa-bridge: warning: conversation ${conversation.chatToken} is past its retention period (${decision.rule}), so the next retention run deletes it${config.retention.daily ? ' (they run daily)' : ''}; to keep it, link it to a matter (--matter REF) or place a hold (wa-bridge hold place --conversation ${conversation.chatToken} --reason TEXT)\n`,
      );
    }
  } finally {
    await source.close();
    await opened.close();
  }
}

async function resolveMatter(db: Executor, reference: string): Promise<number> {
  const id = await findMatterByReference(db, reference);
  if (id === undefined) throw new NotFoundError(`--matter: no matter with reference ${JSON.stringify(reference)}`);
  return id;
}

/** Links the conversation to the matter unless it is linked already; the new link's id, if one was made. */
async function linkOnce(db: Executor, conversationId: number, matterId: number, by: string): Promise<number | undefined> {
  const links = await listLinks(db, [conversationId], false);
  if (links.some((link) => link.matterId === matterId)) return undefined;
  return insertLink(db, conversationId, matterId, by, Date.now());
}

async function findTarget(db: Executor, store: SqlStore, tenant: string, options: ImportOptions, clientWaId: string | undefined, matterId: number | undefined): Promise<ConversationRecord | undefined> {
  const read = (id: number) => store.read((tx) => store.getConversation(tx, id));
  if (options.conversation !== undefined) {
    const ref = options.conversation;
    const found = /^\d+$/.test(ref) ? await read(Number(ref)) : /^[a-z2-7]{26}$/.test(ref) ? await store.read((tx) => store.getConversationByToken(tx, ref)) : undefined;
    if (!found || found.tenant !== tenant) throw new NotFoundError(`--conversation: no conversation ${JSON.stringify(ref)} (give its number or the chat id from the X-WhatsApp-Chat-Id header)`);
    return found;
  }
  if (clientWaId !== undefined) {
    const ids = await conversationsByPhone(db, tenant, clientWaId);
    if (ids.length > 1) throw new BadInputError('ambiguous_conversation', `--client-phone: conversations ${ids.join(', ')} all have this number; name one with --conversation`);
    return ids.length === 1 ? read(ids[0]!) : undefined;
  }
  const ids = await conversationsOfMatter(db, matterId!);
  if (ids.length !== 1) {
    throw new BadInputError('ambiguous_conversation', `--matter: the matter has ${ids.length === 0 ? 'no linked conversation' : `conversations ${ids.join(', ')}`}; name one with --conversation or --client-phone`);
  }
  return read(ids[0]!);
}

/**
 * Which authors are the firm. Named ones must occur in the export. Otherwise, a chat of two
 * people where one is the conversation's client by name makes the other the firm; anything else
 * needs --firm-author, since guessing wrong would record every message in the wrong direction.
 */
function placeAuthors(scan: ExportScan, named: string[], conversation: ConversationRecord | undefined): string[] {
  const authors = [...scan.authors.keys()];
  const list = authors.map((a) => JSON.stringify(a)).join(', ');
  for (const name of named) {
    if (!scan.authors.has(name)) throw new BadInputError('unknown_author', `--firm-author: ${JSON.stringify(name)} wrote nothing in this export (authors: ${list})`);
  }
  if (named.length > 0) return named;
  const client = conversation?.clientName;
  if (client && authors.includes(client) && authors.length <= 2) return authors.filter((a) => a !== client);
  if (authors.length === 0) return [];
  throw new BadInputError('authors_unplaced', `cannot tell which authors are the firm: pass --firm-author NAME (authors: ${list})`);
}

function parsePhone(value: string): string {
  const digits = value.replace(/[\s().-]/g, '');
  if (!/^\+?\d{8,15}$/.test(digits)) throw new BadInputError('bad_phone', `--client-phone: expected an international number such as +44 7700 900123, got ${JSON.stringify(value)}`);
  return digits.replace(/^\+/, '');
}
