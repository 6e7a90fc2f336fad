import { BadInputError, UpstreamError } from '../../core/errors.js';
import type { OutgoingMail } from '../../core/mail.js';
import type { MailComposer } from '../../core/ports.js';
import type { EventRecord } from '../../core/records.js';
import { recordMailId, type RelayMailInput } from '../../core/relay-mail.js';
import type { BlobKeys } from '../../store/blob-cipher.js';
import type { MediaStoreLocation } from '../../store/blob-store.js';
import { RequestThread } from '../request-thread.js';

export interface ComposerThreadData {
  /** The blob store (a directory or a bucket): relayed mails are stored there by the thread. */
  blobStore?: MediaStoreLocation;
  /** Shorthand for a directory store at this root. */
  blobRoot?: string;
  /** Data keys when blobs are sealed at rest, and whether new ones are sealed. */
  blobKeys?: BlobKeys;
  sealBlobs?: boolean;
}

export type ComposeRequest = { kind: 'mail'; mail: OutgoingMail } | { kind: 'relay'; input: RelayMailInput };

/** The thread's answer: the bytes, and for a relayed mail its Message-ID and blob. */
export type ComposeAnswer = { raw: Uint8Array; messageId?: string; rawSha256?: string; inline?: Uint8Array };

export type ComposeFailure = { badInput: boolean; code: string; message: string; errno?: string };

/**
 * A relayed mail as the thread built it: its Message-ID, its bytes, and their blob: already in
 * the blob store, or, for a mail of up to INLINE_BLOB_BYTES, `inline`, the bytes as stored (sealed
 * when sealed) for the blob's row.
 */
export interface ComposedRelay {
  messageId: string;
  raw: Buffer;
  rawSha256: string;
  inline?: Buffer;
}

/**
 * The deterministic composer on a worker thread, so building MIME (a large share of the relay's
 * CPU) runs on another core than webhooks and the store. Same bytes as DeterministicComposer and
 * the same BadInputErrors. With a blob store it also builds relayed mails from their facts and
 * stores their bytes in it (`composeRelay`), which takes that work off the main thread too.
 * If the thread dies, the mails it held fail (their jobs are retried) and the next request starts
 * a new thread.
 */
export class ThreadedComposer implements MailComposer {
  private readonly thread: RequestThread<ComposeRequest, ComposeAnswer, ComposeFailure>;

  /**
   * `entry`: the thread's script, when the server runs from a bundle that has one; by default
   * compose-thread.js, which loads the TypeScript through tsx.
   */
  constructor(
    private readonly data: ComposerThreadData = {},
    entry: URL | string = new URL('./compose-thread.js', import.meta.url),
  ) {
    this.thread = new RequestThread({ entry, data, name: 'the MIME composer', toError });
  }

  async compose(mail: OutgoingMail): Promise<Buffer> {
    return asBuffer((await this.thread.request({ kind: 'mail', mail })).raw);
  }

  /**
   * Builds the relayed mail for `input`, composes it and stores its bytes in the blob store (or
   * seals a small one for its blob's row), all on the thread; resolves once the bytes are stored
   * or ready to be. Needs the blob store.
   */
  async composeRelay(input: RelayMailInput): Promise<ComposedRelay> {
    if (this.data.blobStore === undefined && this.data.blobRoot === undefined) throw new Error('composeRelay needs the blob store');
    const answer = await this.thread.request({ kind: 'relay', input: forCrossing(input) });
    return { raw: asBuffer(answer.raw), messageId: answer.messageId!, rawSha256: answer.rawSha256!, ...(answer.inline ? { inline: asBuffer(answer.inline) } : {}) };
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * What a relayed mail needs, as it crosses to the thread: the earlier events by their
 * Message-IDs rather than their keys, and the events without the raw webhook payload, which no
 * mail shows (it stays in the archive). Copying a text mail's input that names twenty earlier
 * mails to another thread and back took 30 µs of CPU as loaded, 12 µs so.
 */
function forCrossing(input: RelayMailInput): RelayMailInput {
  const previousMailIds = input.previousMailIds ?? input.previous.map((key) => recordMailId(input.tenant, key, input.mailDomain));
  return {
    ...input,
    previous: [],
    previousMailIds,
    event: input.event && withoutRaw(input.event),
    ...(input.related ? { related: withoutRaw(input.related) } : {}),
  };
}

const withoutRaw = (record: EventRecord): EventRecord => ({ ...record, event: { ...record.event, raw: null } });

/**
 * A failure the thread reported, as the error the relay's retry rules read. A blob store out of
 * space is transient and says so (the store removed what it began to write; freeing space is all
 * it takes); other system errors keep their code.
 */
function toError(error: ComposeFailure): Error {
  if (error.badInput) return new BadInputError(error.code, error.message);
  if (error.errno === 'ENOSPC' || error.errno === 'EDQUOT') {
    const what = error.errno === 'ENOSPC' ? 'the disk of the blob store is full' : 'the blob store is over its disk quota';
    return new UpstreamError('blob-store', `The relayed mail could not be stored: ${what} (${error.errno}). Nothing was kept; free space and it is tried again.`, 'transient', error.errno);
  }
  return Object.assign(new Error(error.message), error.errno ? { code: error.errno } : {});
}
