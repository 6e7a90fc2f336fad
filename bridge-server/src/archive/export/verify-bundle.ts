import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { canonicalRecord, chainLink } from '../../core/chain.js';
import type { EventRecord } from '../../core/records.js';
import { verifyCheckpointSignature } from '../signing-key.js';
import { bundleEventSchema, manifestPath, manifestSchema, signaturePath, type BundleManifest } from './manifest.js';

export interface BundleReport {
  ok: boolean;
  /** One line each: what is altered, missing, added, or does not verify. */
  problems: string[];
  files: number;
  publicKey?: string;
  /** Whether the signing key is one of the trusted keys; undefined when none were given. */
  trusted?: boolean;
}

/** The manifest and its signature are small; a bundle claiming more is not one of ours. */
const maxManifestBytes = 64 * 1024 * 1024;

/**
 * Checks a bundle offline, trusting nothing in it but the signature: manifest.sig must be the
 * signature of manifest.json by the key it names (and, when `trustedKeys` are given, by one of
 * them); every listed file must be there with its size and SHA-256; nothing else may be there;
 * and each conversation's events must still form the hash chain they were exported from. Files
 * are hashed as they stream out of the zip, never written anywhere, and never read past their
 * listed size, so a hostile zip cannot fill the disk or memory.
 */
export async function verifyBundle(file: string, trustedKeys: readonly string[] = []): Promise<BundleReport> {
  const problems: string[] = [];
  let zip: ZipFile;
  try {
    zip = await open(file);
  } catch (error) {
    return { ok: false, problems: [`not a readable zip: ${(error as Error).message}`], files: 0 };
  }
  try {
    const entries = await listEntries(zip);
    const byName = new Map<string, Entry>();
    for (const entry of entries) {
      if (byName.has(entry.fileName)) problems.push(`added: ${entry.fileName} appears more than once`);
      byName.set(entry.fileName, entry);
    }
    const manifestEntry = byName.get(manifestPath);
    const signatureEntry = byName.get(signaturePath);
    if (!manifestEntry || !signatureEntry) return { ok: false, problems: [...problems, `missing: ${!manifestEntry ? manifestPath : signaturePath}; this is not an evidence bundle, or it was cut`], files: 0 };
    const manifestBytes = await readEntry(zip, manifestEntry, maxManifestBytes);
    const signature = (await readEntry(zip, signatureEntry, 1024)).toString('utf8').trim();
    let manifest: BundleManifest;
    try {
      manifest = manifestSchema.parse(JSON.parse(manifestBytes.toString('utf8')));
    } catch {
      return { ok: false, problems: [...problems, `altered: ${manifestPath} is not a bundle manifest`], files: 0 };
    }
    const signed = verifyCheckpointSignature(manifest.publicKey, manifestBytes.toString('utf8'), signature);
    if (!signed) problems.push(`altered: ${manifestPath} does not match its signature in ${signaturePath}`);
    const trusted = trustedKeys.length === 0 ? undefined : trustedKeys.includes(manifest.publicKey);
    if (trusted === false) problems.push(`untrusted: the bundle is signed by key ${manifest.publicKey}, which is not one of the trusted keys`);

    const eventsFiles = new Set(manifest.conversations.map((c) => c.eventsFile));
    const eventsText = new Map<string, string>();
    for (const listed of manifest.files) {
      const entry = byName.get(listed.path);
      if (!entry) {
        problems.push(`missing: ${listed.path}`);
        continue;
      }
      const { sha256, size, bytes } = await hashEntry(zip, entry, listed.size, eventsFiles.has(listed.path));
      if (size !== listed.size || sha256 !== listed.sha256) problems.push(`altered: ${listed.path} (${size > listed.size ? 'longer than' : size < listed.size ? 'shorter than' : 'same size as'} listed, SHA-256 differs)`);
      else if (bytes) eventsText.set(listed.path, bytes.toString('utf8'));
    }
    const listedPaths = new Set(manifest.files.map((f) => f.path));
    for (const name of byName.keys()) if (name !== manifestPath && name !== signaturePath && !listedPaths.has(name)) problems.push(`added: ${name} is not in the manifest`);

    for (const conversation of manifest.conversations) {
      const text = eventsText.get(conversation.eventsFile);
      if (text !== undefined) problems.push(...checkChain(conversation, text));
    }
    return { ok: problems.length === 0, problems, files: manifest.files.length, publicKey: manifest.publicKey, ...(trusted === undefined ? {} : { trusted }) };
  } finally {
    zip.close();
  }
}

/** Recomputes the exported events' links: each from the link it names, consecutive ones joined. */
function checkChain(conversation: BundleManifest['conversations'][number], text: string): string[] {
  const problems: string[] = [];
  let previous: { seq: number; link: string } | undefined;
  let count = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    count += 1;
    const parsed = bundleEventSchema.safeParse(safeJson(line));
    if (!parsed.success) {
      problems.push(`chain: ${conversation.eventsFile} line ${count} is not an archived event`);
      return problems;
    }
    const record = parsed.data;
    if (previous && record.seq === previous.seq + 1 && record.previous !== previous.link) problems.push(`chain: conversation ${conversation.chatId} event ${record.seq} does not continue from event ${previous.seq}`);
    const link = chainLink(record.previous, canonicalRecord(conversation.chatKey, record as unknown as EventRecord));
    if (link !== record.chainHash) problems.push(`chain: conversation ${conversation.chatId} event ${record.seq} (${record.waMessageId}) no longer hashes to its chain link`);
    previous = { seq: record.seq, link: record.chainHash };
  }
  if (count !== conversation.events) problems.push(`chain: conversation ${conversation.chatId} lists ${conversation.events} events, ${conversation.eventsFile} holds ${count}`);
  return problems;
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function open(file: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true }, (error, zip) => (error ? reject(error) : resolve(zip)));
  });
}

function listEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))));
}

async function readEntry(zip: ZipFile, entry: Entry, limit: number): Promise<Buffer> {
  const { bytes, size } = await hashEntry(zip, entry, limit, true);
  if (size > limit || !bytes) throw new Error(`${entry.fileName} is larger than an evidence bundle's ${entry.fileName} can be`);
  return bytes;
}

/** Hashes an entry's bytes, reading at most `limit + 1` of them; keeps them when asked. */
async function hashEntry(zip: ZipFile, entry: Entry, limit: number, keep: boolean): Promise<{ sha256: string; size: number; bytes?: Buffer }> {
  const stream = await openEntry(zip, entry);
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) break;
      hash.update(chunk);
      if (keep) chunks.push(chunk);
    }
  } catch {
    // A damaged entry (bad deflate data, wrong declared size) reads as altered.
    return { sha256: '', size: -1 };
  } finally {
    stream.destroy();
  }
  return { sha256: hash.digest('hex'), size, ...(keep && size <= limit ? { bytes: Buffer.concat(chunks) } : {}) };
}
