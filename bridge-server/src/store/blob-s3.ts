import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NotFoundError } from '../core/errors.js';
import { sha256 } from '../core/ids.js';
import type { BlobCipher } from './blob-cipher.js';
import { describeMediaStore, type MediaBlobStore, type MediaStoreLocation } from './blob-store.js';

type S3Location = Extract<MediaStoreLocation, { kind: 's3' }>;

/**
 * Content-addressed objects in an S3-compatible bucket: <prefix><aa>/<sha256>, the same fan-out
 * as the directory store, so a bucket copied to disk (or a directory uploaded) keeps its names.
 * An object holds the same bytes a file would: sealed with the data keys when blob encryption is
 * on. Writing a blob twice stores the same content under the same name, so a put needs no
 * existence check and two bridges writing one blob at once do no harm. Credentials come from the
 * AWS credential chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role).
 */
export class S3BlobStore implements MediaBlobStore {
  private readonly client: S3Client;

  constructor(
    readonly location: S3Location,
    private readonly cipher?: BlobCipher,
    client?: S3Client,
  ) {
    const config: S3ClientConfig = {
      forcePathStyle: location.forcePathStyle,
      ...(location.endpoint ? { endpoint: location.endpoint } : {}),
      ...(location.region ? { region: location.region } : {}),
      // A store that stops answering fails the job (which is retried) instead of holding it.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    };
    this.client = client ?? new S3Client(config);
  }

  keyOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new TypeError('not a sha256 hex digest');
    return `${this.location.prefix}${hash.slice(0, 2)}/${hash}`;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes).toString('hex');
    const body = this.cipher ? this.cipher.seal(bytes, hash) : bytes;
    await this.attempt(hash, () => this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(hash), Body: body, ContentType: 'application/octet-stream' })));
    return hash;
  }

  async get(hash: string): Promise<Buffer> {
    const stored = await this.readStored(hash);
    return this.cipher ? this.cipher.open(stored, hash) : stored;
  }

  async readStored(hash: string): Promise<Buffer> {
    const response = await this.attempt(hash, () => this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(hash) })));
    if (!response.Body) throw new Error(`${this.where()}: blob ${hash.slice(0, 12)}… came back without a body`);
    const bytes = await this.attempt(hash, () => response.Body!.transformToByteArray());
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async has(hash: string): Promise<boolean> {
    try {
      await this.attempt(hash, () => this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(hash) })));
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  async remove(hash: string): Promise<void> {
    // Deleting a key that is not there succeeds on S3.
    await this.attempt(hash, () => this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(hash) })));
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }));
    } catch (error) {
      const status = statusOf(error);
      const message = messageOf(error);
      const why =
        status === 404
          ? 'no such bucket'
          : status === 403
            ? 'access denied (check the credentials and the bucket policy)'
            : /region is missing/i.test(message)
              ? 'no region: add ?region=… to the URL or set AWS_REGION'
              : /credentials/i.test(message)
                ? `no credentials (${message}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give the machine a role`
                : message;
      throw new Error(`WA_BRIDGE_MEDIA_STORE: ${this.where()} cannot be used: ${why}`, { cause: error });
    }
  }

  private where(): string {
    return describeMediaStore(this.location);
  }

  /** Runs one request; an absent object becomes NotFoundError, any other failure names the store. */
  private async attempt<T>(hash: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || (statusOf(error) === 404 && name !== 'NoSuchBucket')) {
        throw new NotFoundError(`blob ${hash.slice(0, 12)}… is not in the blob store`);
      }
      throw new Error(`${this.where()}: blob ${hash.slice(0, 12)}…: ${messageOf(error)}`, { cause: error });
    }
  }
}

const statusOf = (error: unknown): number | undefined => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const messageOf = (error: unknown): string => (error instanceof Error ? error.message || error.name : String(error));
