import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, NotFoundError } from '../core/errors.js';
import { blobCipher } from './blob-cipher.js';
import { S3BlobStore } from './blob-s3.js';
import { describeMediaStore, FileMediaStore, mediaStoreAt } from './blob-store.js';

describe('the media store of a directory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-media-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start on a configured directory that is missing (a share that did not mount), and makes its own', async () => {
    const share = path.join(dir, 'share', 'media');
    // A setting to fix: a ConfigError, which the command reports with the usage exit code.
    const missing = await (await mediaStoreAt({ kind: 'file', root: share }, undefined, { createRoot: false })).check().catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toBe(`WA_BRIDGE_MEDIA_STORE: ${share} does not exist: create it, or mount the share that holds it`);
    expect(existsSync(share)).toBe(false);
    await (await mediaStoreAt({ kind: 'file', root: share })).check();
    expect(existsSync(share)).toBe(true);
  });

  it('gives the bytes as stored for backups, and removes blobs nothing uses', async () => {
    const keys = { activeId: 'fedcba9876543210', keys: [['fedcba9876543210', randomBytes(32)]] as Array<[string, Uint8Array]> };
    const store = new FileMediaStore(dir, blobCipher(keys));
    const bytes = Buffer.from('a letter before action');
    const hash = await store.put(bytes);
    const stored = await store.readStored(hash);
    expect(stored.subarray(0, 4).toString()).toBe('WAB2');
    expect(await store.get(hash)).toEqual(bytes);
    await store.remove(hash);
    await store.remove(hash);
    expect(await store.has(hash)).toBe(false);
    await expect(store.readStored(hash)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('opens a bucket with the S3 client, and describes either without secrets', async () => {
    const bucket = { kind: 's3' as const, bucket: 'firm-media', prefix: 'wa/', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true };
    expect(await mediaStoreAt(bucket)).toBeInstanceOf(S3BlobStore);
    expect(describeMediaStore(bucket)).toBe('s3://firm-media/wa/ at http://127.0.0.1:9000');
    expect(describeMediaStore({ kind: 'file', root: '/srv/media' })).toBe('/srv/media');
  });
});
