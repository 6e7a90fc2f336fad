import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { ChainChecker } from '../../core/chain-check.js';
import { IntegrityError, NotFoundError } from '../../core/errors.js';
import { safeFileName } from '../../core/file-name.js';
import { sha256 } from '../../core/ids.js';
import { inPeriods, type Period } from '../../core/matters.js';
import type { ConversationRecord, EventRecord } from '../../core/records.js';
import { buildTranscript, importedMark, type TranscriptFile, type TranscriptInput } from '../../core/transcript.js';
import { formatZonedTime } from '../../core/zoned-time.js';
import { relatedWaMessageId } from '../../flows/relay.js';
import { chainLinkBefore, importsOfConversation, latestCheckpoint, listEventsForExport, matterPeriodsByConversation, scanConversationEvents, type ImportSummary } from '../../store/archive.js';
import { listAttachments } from '../../store/attachments.js';
import { getConversationByToken } from '../../store/conversations.js';
import { latestMessagesByWaId } from '../../store/events.js';
import type { Executor } from '../../store/executor.js';
import { listRelays } from '../../store/relays.js';
import { writeNewFile } from '../new-file.js';
import type { CheckpointKey } from '../signing-key.js';
import type { BlobReader } from '../verify.js';
import { bundleFormat, manifestPath, signaturePath, type BundleEvent, type BundleManifest } from './manifest.js';
import { toMbox } from './mbox.js';
import { ScratchFile } from './scratch-file.js';
import { transcriptHtmlParts, type TranscriptSection } from './transcript-html.js';
import { transcriptPdf } from './transcript-pdf.js';

export interface ExportSelection {
  /** Chat ids as in X-WhatsApp-Chat-Id. */
  conversations: string[];
  /** A matter's reference, recorded when the conversations came from one. */
  matter?: string;
  from?: number;
  to?: number;
}

export interface ExportOptions {
  db: Executor;
  blobs: BlobReader;
  key: CheckpointKey;
  /** The zip to write; it must not exist. */
  out: string;
  /** How errors name `out`, e.g. the option that gave it; `out` itself by default. */
  outLabel?: string;
  selection: ExportSelection;
  timeZone: string;
  exportedBy: string;
  now?: number;
  /** Called as events and mails are gathered; `total` is known after the first call. */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  path: string;
  events: number;
  mails: number;
  files: number;
  sha256: string;
}

/**
 * Writes one evidence bundle: per conversation the archived events (events.ndjson, with their
 * chain links), every mail exactly as relayed (.eml) and as one mbox, the media; for all of them
 * a printable transcript in HTML and PDF; and the signed manifest. The zip is written under a
 * temporary name and linked to `out` at the end, so a failed export never leaves a bundle that
 * looks whole, and a file at `out` (there before, or made meanwhile) is never replaced.
 */
export async function exportBundle(options: ExportOptions): Promise<ExportResult> {
  // The large files (events, the HTML transcript) are written here as they are made.
  const scratch = await mkdtemp(join(tmpdir(), 'wab-bundle-'));
  try {
    return await writeBundle(options, scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Throws IntegrityError, naming the first problem, unless the conversation's events still match its hash chain. */
async function checkChain(conversation: ConversationRecord, events: Iterable<EventRecord> | AsyncIterable<EventRecord>): Promise<void> {
  const checker = new ChainChecker(conversation.chatKey);
  for await (const event of events) checker.add(event);
  const [first] = checker.finish(conversation.lastSeq, conversation.chainHead);
  if (first) {
    throw new IntegrityError(`conversation ${conversation.chatToken} no longer matches its hash chain (event ${first.seq}: ${first.detail}); nothing was exported. \`wa-bridge verify\` shows every problem`);
  }
}

async function writeBundle(options: ExportOptions, scratch: string): Promise<ExportResult> {
  const now = options.now ?? Date.now();
  const conversations: ConversationRecord[] = [];
  for (const chatId of options.selection.conversations) {
    const conversation = await getConversationByToken(options.db, chatId);
    if (!conversation) throw new NotFoundError(`no conversation has chat id ${chatId} (the X-WhatsApp-Chat-Id of its mails)`);
    conversations.push(conversation);
  }
  const range = { ...(options.selection.from !== undefined ? { from: options.selection.from } : {}), ...(options.selection.to !== undefined ? { to: options.selection.to } : {}) };
  const wholeConversations = range.from === undefined && range.to === undefined;
  // A matter's bundle holds each conversation's events only from when it belonged to the matter:
  // what a client wrote after the chat moved to another matter is that matter's business.
  const periods = options.selection.matter === undefined ? undefined : await matterPeriodsByConversation(options.db, options.selection.matter);
  if (options.selection.matter !== undefined && periods === undefined) throw new NotFoundError(`no matter has reference ${options.selection.matter}`);
  const periodsOf = (conversation: ConversationRecord): Period[] | undefined => (periods === undefined ? undefined : (periods.get(conversation.id) ?? []));

  // Each file of the bundle: its bytes, or where they wait in the scratch directory.
  const files = new Map<string, { sha256: string; size: number; content?: Buffer; file?: string }>();
  const add = (path: string, content: Buffer): { sha256: string; size: number } => {
    const entry = { sha256: sha256(content).toString('hex'), size: content.length, content };
    files.set(path, entry);
    return entry;
  };
  let scratchFiles = 0;
  const addWritten = async (path: string, write: (out: ScratchFile) => Promise<void>): Promise<void> => {
    const out = new ScratchFile(join(scratch, String((scratchFiles += 1))));
    try {
      await write(out);
    } catch (error) {
      out.abort();
      throw error;
    }
    files.set(path, { ...(await out.close()), file: out.file });
  };

  const gathered = [];
  let total = 0;
  for (const conversation of conversations) {
    const linked = periodsOf(conversation);
    const inMatter = (time: number) => linked === undefined || inPeriods(time, linked);
    const listed = await listEventsForExport(options.db, conversation.id, range);
    // A bundle is signed: it is made only from conversations whose whole chain still holds, so a
    // record changed in the store cannot go out under the bridge's signature. Without a date range
    // the events just read are the whole conversation, and they are checked; with one, the whole
    // chain is read for the check. Every conversation is checked before anything is written.
    await checkChain(conversation, wholeConversations ? listed : scanConversationEvents(options.db, conversation.id));
    const events = listed.filter((event) => inMatter(event.timestamp));
    const ids = new Set(events.map((event) => event.id));
    // The cover mail ("conversation opened") belongs to the range its opening falls in, as an event's mail does.
    const coverInRange = (range.from === undefined || conversation.openedAt >= range.from) && (range.to === undefined || conversation.openedAt < range.to) && inMatter(conversation.openedAt);
    const relays = (await listRelays(options.db, conversation.id)).filter((relay) => (relay.eventId === null ? coverInRange : ids.has(relay.eventId)));
    gathered.push({ conversation, events, relays, linked });
    total += events.length + relays.length;
  }
  let done = 0;
  const tick = () => options.onProgress?.((done += 1), total);

  const sections: TranscriptSection[] = [];
  const manifestConversations: BundleManifest['conversations'] = [];
  let eventCount = 0;
  let mailCount = 0;
  for (const { conversation, events, relays, linked } of gathered) {
    const dir = `conversations/${conversation.chatToken}`;
    const inputs: TranscriptInput[] = [];
    // Quoted messages and the targets of edits, deletions and reactions, in one query.
    const related = await latestMessagesByWaId(options.db, conversation.id, [...new Set(events.flatMap((e) => relatedWaMessageId(e.event) ?? []))]);
    await addWritten(`${dir}/events.ndjson`, async (eventsFile) => {
      let previousSeq = -1;
      let previousLink = '';
      for (const record of events) {
        const attachments = [];
        for (const attachment of await listAttachments(options.db, record.id)) {
          if (attachment.sha256 !== null) attachments.push({ record: attachment, content: await options.blobs.get(attachment.sha256) });
        }
        const target = relatedWaMessageId(record.event);
        const quoted = target === undefined ? undefined : related.get(target);
        inputs.push({ record, attachments, ...(quoted ? { related: quoted } : {}) });
        const previous = record.seq === previousSeq + 1 ? previousLink : await chainLinkBefore(options.db, conversation.id, record.seq);
        const line: BundleEvent = {
          seq: record.seq,
          previous,
          chainHash: record.chainHash,
          channel: record.channel,
          waMessageId: record.waMessageId,
          kind: record.kind,
          versionKey: record.versionKey,
          direction: record.direction,
          timestamp: record.timestamp,
          receivedAt: record.receivedAt,
          event: record.event,
        };
        await eventsFile.write(`${JSON.stringify(line)}\n`);
        previousSeq = record.seq;
        previousLink = record.chainHash;
        tick();
      }
    });

    const placeFile = (file: { fileName: string; contentType: string; content: Buffer }): TranscriptFile => {
      const hash = sha256(file.content).toString('hex');
      const path = `${dir}/media/${hash.slice(0, 12)}-${safeFileName(file.fileName, 'file')}`;
      add(path, file.content);
      return { fileName: file.fileName, contentType: file.contentType, size: file.content.length, sha256: hash, path };
    };
    const entries = buildTranscript(conversation, inputs, placeFile, options.timeZone);

    const seqOf = new Map(events.map((event) => [event.id, event.seq]));
    const mails = [];
    for (const relay of [...relays].sort((a, b) => (a.eventId === null ? 0 : (seqOf.get(a.eventId) ?? 0)) - (b.eventId === null ? 0 : (seqOf.get(b.eventId) ?? 0)))) {
      const raw = await options.blobs.get(relay.rawSha256);
      const seq = relay.eventId === null ? 0 : (seqOf.get(relay.eventId) ?? 0);
      add(`${dir}/mail/${String(seq).padStart(6, '0')}${seq === 0 ? '-conversation-opened' : ''}.eml`, raw);
      mails.push({ raw, date: new Date(relay.sentAt ?? relay.preparedAt) });
      tick();
    }
    if (mails.length > 0) add(`${dir}/mail.mbox`, toMbox(mails));
    eventCount += events.length;
    mailCount += mails.length;

    const imports = await importsOfConversation(options.db, conversation.id);
    const client = [conversation.clientName, conversation.clientWaId ? `+${conversation.clientWaId}` : conversation.clientUserId].filter(Boolean).join(' ');
    sections.push({
      title: conversation.subject,
      client: client === '' ? 'unknown' : client,
      chatId: conversation.chatToken,
      entries,
      imports: imports.map((found) => describeImport(found, options.timeZone)),
      ...(linked === undefined ? {} : { linked: describePeriods(options.selection.matter!, linked, options.timeZone) }),
    });
    manifestConversations.push({
      chatId: conversation.chatToken,
      chatKey: conversation.chatKey,
      subject: conversation.subject,
      events: events.length,
      firstSeq: events[0]?.seq ?? null,
      lastSeq: events.at(-1)?.seq ?? null,
      chainHead: conversation.chainHead,
      eventsFile: `${dir}/events.ndjson`,
      ...(imports.length === 0 ? {} : { imports: imports.map((found) => ({ file: found.sourceName, sha256: found.sourceSha256, timeZone: found.timeZone, importedBy: found.importedBy, importedAt: new Date(found.startedAt).toISOString(), added: found.added })) }),
      ...(linked === undefined ? {} : { linked: linked.map((p) => ({ from: p.from === null ? null : new Date(p.from).toISOString(), to: p.to === null ? null : new Date(p.to).toISOString() })) }),
    });
  }

  const selectionText = describeSelection(options.selection);
  const meta = { exportedAt: now, exportedBy: options.exportedBy, timeZone: options.timeZone, selection: selectionText };
  await addWritten('transcript.html', async (out) => {
    for (const part of transcriptHtmlParts(meta, sections)) await out.write(part);
  });
  add('transcript.pdf', await transcriptPdf(meta, sections, (path) => files.get(path)?.content));

  const checkpoint = await latestCheckpoint(options.db);
  const manifest: BundleManifest = {
    format: bundleFormat,
    exportedAt: new Date(now).toISOString(),
    exportedBy: options.exportedBy,
    timeZone: options.timeZone,
    selection: {
      ...(options.selection.conversations.length > 0 && !options.selection.matter ? { conversation: options.selection.conversations.join(',') } : {}),
      ...(options.selection.matter ? { matter: options.selection.matter } : {}),
      ...(options.selection.from !== undefined ? { from: new Date(options.selection.from).toISOString() } : {}),
      ...(options.selection.to !== undefined ? { to: new Date(options.selection.to).toISOString() } : {}),
    },
    conversations: manifestConversations,
    checkpoint: checkpoint
      ? { id: checkpoint.id, createdAt: new Date(checkpoint.createdAt).toISOString(), reason: checkpoint.reason, headsSha256: checkpoint.headsSha256, previousSha256: checkpoint.previousSha256, publicKey: checkpoint.publicKey, signature: checkpoint.signature }
      : null,
    publicKey: options.key.publicKey,
    files: [...files].map(([path, file]) => ({ path, sha256: file.sha256, size: file.size })).sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');

  const zip = new ZipFile();
  const mtime = new Date(now);
  // The PDF's pages are compressed already: deflating them again costs time and saves nothing.
  for (const [path, file] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (file.file !== undefined) zip.addFile(file.file, path, { mtime });
    else zip.addBuffer(file.content!, path, { mtime, compress: path !== 'transcript.pdf' });
  }
  zip.addBuffer(manifestBytes, manifestPath, { mtime });
  zip.addBuffer(Buffer.from(`${options.key.sign(manifestBytes.toString('utf8'))}\n`, 'utf8'), signaturePath, { mtime });
  zip.end();
  const digest = await writeNewFile(options.out, async (partial) => {
    await pipeline(zip.outputStream, createWriteStream(partial, { flags: 'wx' }));
    return sha256OfFile(partial);
  }, options.outLabel);
  return { path: options.out, events: eventCount, mails: mailCount, files: files.size, sha256: digest };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function describeSelection(selection: ExportSelection): string {
  const what = selection.matter ? `matter ${selection.matter}` : `conversation ${selection.conversations.join(', ')}`;
  const from = selection.from !== undefined ? ` from ${new Date(selection.from).toISOString()}` : '';
  const to = selection.to !== undefined ? ` until ${new Date(selection.to).toISOString()}` : '';
  return `${what}${from}${to}`;
}

/**
 * Writes a bundle into a private temporary directory, for answering an HTTP request with it;
 * `cleanup` removes the directory once the answer is sent.
 */
export async function exportToTemp(options: Omit<ExportOptions, 'out'>): Promise<ExportResult & { cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wab-export-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    return { ...(await exportBundle({ ...options, out: join(dir, 'bundle.zip') })), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** What a matter's bundle holds of one conversation, for its transcript: "Events while … belonged to matter M-8: from its start up to …". */
function describePeriods(matter: string, periods: readonly Period[], timeZone: string): string {
  if (periods.length === 0) return `The conversation never belonged to matter ${matter} at a time any of its events falls in.`;
  if (periods.length === 1 && periods[0]!.from === null && periods[0]!.to === null) return `The whole conversation belongs to matter ${matter}.`;
  const at = (time: number) => formatZonedTime(time, timeZone);
  const one = (p: Period) => (p.from === null ? `from its start up to ${at(p.to!)}` : p.to === null ? `from ${at(p.from)} on` : `from ${at(p.from)} up to ${at(p.to)}`);
  return `Events while the conversation belonged to matter ${matter}: ${periods.map(one).join('; ')}. Its other events are not in this bundle.`;
}

/** "Imported from the chat export "WhatsApp Chat with Jane.zip" (SHA-256 …) by … on …: 812 messages, times read as Europe/London." */
function describeImport(found: ImportSummary, timeZone: string): string {
  const unfinished = found.state === 'complete' ? '' : ' (the import did not finish)';
  return `Imported from the chat export "${found.sourceName}" (SHA-256 ${found.sourceSha256}) by ${found.importedBy} on ${formatZonedTime(found.startedAt, timeZone)}: ${found.added} message(s), times read as ${found.timeZone}${unfinished}. These messages were not received live: each is marked "${importedMark}", and its time is the one the export wrote.`;
}
