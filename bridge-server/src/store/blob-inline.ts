import type { BlobCipher } from './blob-cipher.js';
import type { MediaBlobStore, MediaStoreLocation } from './blob-store.js';
import type { Executor } from './executor.js';

/**
 * Relayed mails up to this size keep their bytes in their row of the blobs table instead of the
 * blob store: a text's mail is a few kilobytes, one with a sticker or a small photo a few dozen.
 * Media itself, and mails that carry larger media, go to the blob store as before.
 */
export const INLINE_BLOB_BYTES = 64 * 1024;

/**
 * The blob store as the database completes it: a blob whose bytes its row keeps (blobs.content,
 * written in the transaction that records a relayed mail) is read from there, every other one
 * from the configured store. New blobs from put() go to the configured store; only the relay
 * (and a restore of what it kept) writes rows with their bytes. Removing a blob's row removes bytes kept in it, so retention's
 * removal here only has files or objects left to delete.
 */
export class InlineBlobStore implements MediaBlobStore {
  /**
   * `files`: the configured store (a directory or a bucket); `cipher`: opens sealed bytes, as
   * the configured store does its own.
   */
  constructor(
    private readonly db: Executor,
    readonly files: MediaBlobStore,
    private readonly cipher?: BlobCipher,
  ) {}

  get location(): MediaStoreLocation {
    return this.files.location;
  }

  put(bytes: Uint8Array): Promise<string> {
    return this.files.put(bytes);
  }

  async get(hash: string): Promise<Buffer> {
    const kept = await this.kept(hash);
    if (kept === undefined) return this.files.get(hash);
    return this.cipher ? this.cipher.open(kept, hash) : kept;
  }

  async has(hash: string): Promise<boolean> {
    return (await this.kept(hash)) !== undefined || this.files.has(hash);
  }

  async readStored(hash: string): Promise<Buffer> {
    return (await this.kept(hash)) ?? this.files.readStored(hash);
  }

  remove(hash: string): Promise<void> {
    return this.files.remove(hash);
  }

  check(): Promise<void> {
    return this.files.check();
  }

  /** Whether the blob's row keeps its bytes. */
  async keeps(hash: string): Promise<boolean> {
    return (await this.kept(hash)) !== undefined;
  }

  /** `bytes` as a blob's row keeps them: sealed when new blobs are sealed, as the store seals a file. */
  forRow(bytes: Uint8Array, hash: string): Buffer {
    return this.cipher ? this.cipher.seal(bytes, hash) : Buffer.from(bytes);
  }

  /** The bytes the blob's row keeps, if it keeps them. */
  private async kept(hash: string): Promise<Buffer | undefined> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new TypeError('not a sha256 hex digest');
    const row = await this.db.selectFrom('blobs').select('content').where('sha256', '=', hash).executeTakeFirst();
    return row?.content ?? undefined;
  }
}

/** The configured store behind `blobs`, for readers that copy its files as they are (backups). */
export function configuredStore(blobs: MediaBlobStore): MediaBlobStore {
  return blobs instanceof InlineBlobStore ? blobs.files : blobs;
}
