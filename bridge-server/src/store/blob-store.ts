import { constants } from 'node:fs';
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { ConfigError, NotFoundError } from '../core/errors.js';
import type { BlobStore } from '../core/ports.js';
import type { BlobCipher } from './blob-cipher.js';
import { FileBlobStore } from './blob-files.js';

/**
 * Where media and relayed mail are kept (WA_BRIDGE_MEDIA_STORE): a directory, which several
 * bridges may share, or an S3-compatible bucket under an optional key prefix. Credentials for a
 * bucket come from the AWS credential chain, never from here.
 */
export type MediaStoreLocation =
  | { kind: 'file'; root: string }
  | { kind: 's3'; bucket: string; /** '' or ending in '/'. */ prefix: string; endpoint?: string; region?: string; forcePathStyle: boolean };

/**
 * The blob store as the archive's own tools use it: besides the flows' port, the bytes exactly as
 * stored (sealed when sealed; for backups), removal of blobs nothing refers to any more
 * (retention), and a start-up check that the store can be reached.
 */
export interface MediaBlobStore extends BlobStore {
  readonly location: MediaStoreLocation;
  /** The stored bytes, sealed or not, as a backup copies them. Throws NotFoundError when absent. */
  readStored(sha256: string): Promise<Buffer>;
  /** Removes the blob; removing one that is absent is harmless. */
  remove(sha256: string): Promise<void>;
  /** Throws with a message naming the store when it cannot be used. */
  check(): Promise<void>;
}

/** A location for messages and logs, without anything secret in it (there is none to leave out). */
export function describeMediaStore(location: MediaStoreLocation): string {
  return location.kind === 'file' ? location.root : `s3://${location.bucket}/${location.prefix}${location.endpoint ? ` at ${location.endpoint}` : ''}`;
}

/** The directory store of blob-files.ts with what the archive's tools need beside it. */
export class FileMediaStore implements MediaBlobStore {
  readonly location: { kind: 'file'; root: string };
  private readonly files: FileBlobStore;

  /**
   * `createRoot`: make the directory when it is missing (the data dir's own blobs/). A configured
   * directory must exist already, so a share that failed to mount is not taken for an empty one.
   */
  constructor(
    root: string,
    cipher?: BlobCipher,
    private readonly createRoot = true,
  ) {
    this.location = { kind: 'file', root };
    this.files = new FileBlobStore(root, cipher);
  }

  /** The blob's file, for readers that copy files as they are (backups). */
  pathOf(hash: string): string {
    return this.files.pathOf(hash);
  }

  put(bytes: Uint8Array): Promise<string> {
    return this.files.put(bytes);
  }

  putSync(bytes: Uint8Array): string {
    return this.files.putSync(bytes);
  }

  get(hash: string): Promise<Buffer> {
    return this.files.get(hash);
  }

  has(hash: string): Promise<boolean> {
    return this.files.has(hash);
  }

  async readStored(hash: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(hash));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`blob ${hash.slice(0, 12)}… is not in the blob store`);
      throw error;
    }
  }

  async remove(hash: string): Promise<void> {
    await rm(this.pathOf(hash), { force: true });
  }

  async check(): Promise<void> {
    const root = this.location.root;
    if (this.createRoot) await mkdir(root, { recursive: true });
    try {
      await access(root, constants.W_OK | constants.X_OK);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      // A setting to fix: the usage exit code, as every other configuration problem.
      throw new ConfigError(`WA_BRIDGE_MEDIA_STORE: ${root} ${missing ? 'does not exist: create it, or mount the share that holds it' : 'cannot be written by this user'}`);
    }
  }
}

/**
 * The store at `location`, sealing and opening with `cipher` when given. The S3 client is loaded
 * only when a bucket is configured.
 */
export async function mediaStoreAt(location: MediaStoreLocation, cipher?: BlobCipher, options: { createRoot?: boolean } = {}): Promise<MediaBlobStore> {
  if (location.kind === 'file') return new FileMediaStore(location.root, cipher, options.createRoot ?? true);
  const { S3BlobStore } = await import('./blob-s3.js');
  return new S3BlobStore(location, cipher);
}
