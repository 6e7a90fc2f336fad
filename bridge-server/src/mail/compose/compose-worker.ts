import { workerData } from 'node:worker_threads';
import { isBridgeError } from '../../core/errors.js';
import type { OutgoingMail } from '../../core/mail.js';
import { sha256 } from '../../core/ids.js';
import { buildRelayMail, type RelayMailInput } from '../../core/relay-mail.js';
import { blobCipher } from '../../store/blob-cipher.js';
import { INLINE_BLOB_BYTES } from '../../store/blob-inline.js';
import { FileMediaStore, mediaStoreAt } from '../../store/blob-store.js';
import { DeterministicComposer } from './composer.js';
import { serveRequests } from '../request-thread.js';
import type { ComposeAnswer, ComposeFailure, ComposeRequest, ComposerThreadData } from './threaded-composer.js';

/**
 * Runs on the composer's worker thread: composes each mail it is sent and posts the bytes back;
 * for a relayed mail it also builds the mail from the stored facts and stores the bytes in the
 * blob store before answering.
 */
const composer = new DeterministicComposer();
const { blobStore, blobRoot, blobKeys, sealBlobs } = (workerData ?? {}) as ComposerThreadData;
const location = blobStore ?? (blobRoot === undefined ? undefined : { kind: 'file' as const, root: blobRoot });
const cipher = blobKeys ? blobCipher(blobKeys, { seal: sealBlobs === true }) : undefined;
const blobs = location === undefined ? undefined : await mediaStoreAt(location, cipher);

/** Structured cloning turns a Buffer into a plain Uint8Array; nodemailer and the renderers want Buffers. */
const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const reviveMail = (mail: OutgoingMail): OutgoingMail => ({ ...mail, attachments: mail.attachments.map((a) => ({ ...a, content: toBuffer(a.content) })) });
const reviveInput = (input: RelayMailInput): RelayMailInput => ({ ...input, attachments: input.attachments.map((a) => ({ ...a, content: toBuffer(a.content) })) });

/** The bytes move to the main thread instead of being copied when `raw` owns its memory. */
const movable = (raw: Buffer): Uint8Array => (raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? new Uint8Array(raw.buffer) : Uint8Array.prototype.slice.call(raw));

async function answer(request: ComposeRequest): Promise<{ answer: ComposeAnswer; transfer: ArrayBuffer[] }> {
  // Composed in one synchronous pass each: a backlog of mails is not built side by side.
  if (request.kind === 'mail') return moved({ raw: movable(composer.composeNow(reviveMail(request.mail))) });
  if (!blobs) throw new Error('the composer thread was started without a blob store');
  const mail = buildRelayMail(reviveInput(request.input));
  const raw = composer.composeNow(mail);
  if (raw.length <= INLINE_BLOB_BYTES) {
    // Kept in the blob's row, written with the relay record: creating a file per mail cost more
    // than composing it. Sealed here as the blob store would seal it.
    const rawSha256 = sha256(raw).toString('hex');
    const stored = cipher ? cipher.seal(raw, rawSha256) : raw;
    // Kept plain (no keys, or sealing switched off) it is a copy: the reply moves each buffer to the
    // main thread, and the same memory cannot be moved twice.
    const inline = stored.buffer === raw.buffer ? Buffer.from(stored) : stored;
    return moved({ raw: movable(raw), messageId: mail.messageId, rawSha256, inline: movable(inline) });
  }
  // A directory is written with blocking calls (this thread blocks nothing else); a bucket is a request.
  const rawSha256 = blobs instanceof FileMediaStore ? blobs.putSync(raw) : await blobs.put(raw);
  return moved({ raw: movable(raw), messageId: mail.messageId, rawSha256 });
}

/** The answer with its buffers to move. */
const moved = (answer: ComposeAnswer) => ({ answer, transfer: [answer.raw.buffer as ArrayBuffer, ...(answer.inline ? [answer.inline.buffer as ArrayBuffer] : [])] });

/** A system error's code (ENOSPC, EACCES …), which a message across threads would otherwise lose. */
function errnoOf(error: unknown): { errno?: string } {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? { errno: code } : {};
}

serveRequests<ComposeRequest, ComposeAnswer, ComposeFailure>(answer, (error) =>
  isBridgeError(error) && error.status === 400
    ? { badInput: true, code: error.code, message: error.message }
    : { badInput: false, code: 'compose_failed', message: error instanceof Error ? error.message : String(error), ...errnoOf(error) },
);
