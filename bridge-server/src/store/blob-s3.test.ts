import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../core/errors.js';
import { blobCipher, UnreadableBlobError } from './blob-cipher.js';
import { S3BlobStore } from './blob-s3.js';
import type { MediaStoreLocation } from './blob-store.js';

/** Against s3rver, a real server speaking the S3 REST API over a local directory. */
describe('S3BlobStore', () => {
  let server: S3rver;
  let dir: string;
  let client: S3Client;
  let where: Extract<MediaStoreLocation, { kind: 's3' }>;
  const keys = { activeId: '0123456789abcdef', keys: [['0123456789abcdef', randomBytes(32)]] as Array<[string, Uint8Array]> };
  const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  const raw = async (key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: 'media', Key: key }))).Body!.transformToByteArray());

  let savedCredentials: Record<string, string | undefined> = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-s3-unit-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'media' }] });
    const { port } = await server.run();
    where = { kind: 's3', bucket: 'media', prefix: 'firm/wa/', endpoint: `http://127.0.0.1:${port}`, region: 'eu-west-2', forcePathStyle: true };
    client = new S3Client({ endpoint: where.endpoint, region: 'eu-west-2', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    savedCredentials = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  });

  afterAll(async () => {
    // Test files share their worker's process: the credentials go back to what they were.
    for (const [name, value] of Object.entries(savedCredentials)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    client?.destroy();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores content-addressed under the prefix with the fan-out, and reads it back', async () => {
    const store = new S3BlobStore(where);
    const bytes = randomBytes(5_000);
    const hash = await store.put(bytes);
    expect(hash).toBe(hex(bytes));
    expect(store.keyOf(hash)).toBe(`firm/wa/${hash.slice(0, 2)}/${hash}`);
    expect(await raw(store.keyOf(hash))).toEqual(bytes);
    expect(await store.get(hash)).toEqual(bytes);
    expect(await store.has(hash)).toBe(true);
    // Storing the same bytes again is harmless.
    expect(await store.put(bytes)).toBe(hash);
    expect(await store.get(hash)).toEqual(bytes);
  });

  it('says what is absent: has is false, get and readStored throw NotFoundError, remove is harmless', async () => {
    const store = new S3BlobStore(where);
    const hash = hex(randomBytes(10));
    expect(await store.has(hash)).toBe(false);
    await expect(store.get(hash)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.readStored(hash)).rejects.toBeInstanceOf(NotFoundError);
    await store.remove(hash);
    const kept = await store.put(Buffer.from('to be removed'));
    await store.remove(kept);
    expect(await store.has(kept)).toBe(false);
  });

  it('seals objects at rest with the data keys, and names an object whose bytes were changed', async () => {
    const store = new S3BlobStore(where, blobCipher(keys));
    const bytes = Buffer.from('Privileged: the signed lease for 14 High Street. '.repeat(50));
    const hash = await store.put(bytes);
    const stored = await raw(store.keyOf(hash));
    expect(stored.subarray(0, 4).toString()).toBe('WAB2');
    expect(stored.includes(Buffer.from('14 High Street'))).toBe(false);
    expect(await store.readStored(hash)).toEqual(stored);
    expect(await store.get(hash)).toEqual(bytes);
    // Without the keys the sealed object is not the blob: its bytes do not hash to its name.
    expect(hex(await new S3BlobStore(where).get(hash))).not.toBe(hash);

    const changed = Buffer.from(stored);
    changed[changed.length - 20] = changed[changed.length - 20]! ^ 1;
    await client.send(new PutObjectCommand({ Bucket: 'media', Key: store.keyOf(hash), Body: changed }));
    await expect(store.get(hash)).rejects.toBeInstanceOf(UnreadableBlobError);
  });

  it('checks the bucket at start, naming the store and the reason', async () => {
    await new S3BlobStore(where).check();
    await expect(new S3BlobStore({ ...where, bucket: 'no-such-bucket' }).check()).rejects.toThrow(/^WA_BRIDGE_MEDIA_STORE: s3:\/\/no-such-bucket\/firm\/wa\/ at http:\/\/127\.0\.0\.1:\d+ cannot be used: no such bucket$/);
    await expect(new S3BlobStore({ ...where, endpoint: 'http://127.0.0.1:1' }).check()).rejects.toThrow(/^WA_BRIDGE_MEDIA_STORE: .* cannot be used: /);
    const { region: _region, ...noRegion } = where;
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE };
    try {
      delete process.env.AWS_REGION;
      delete process.env.AWS_DEFAULT_REGION;
      process.env.AWS_CONFIG_FILE = path.join(dir, 'no-aws-config');
      await expect(new S3BlobStore(noRegion).check()).rejects.toThrow(/cannot be used: no region: add \?region=… to the URL or set AWS_REGION$/);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
