import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { BadInputError } from '../core/errors.js';

/**
 * Blobs sealed at rest with AES-256-GCM. A sealed file is "WAB2", the data key's id (16 hex
 * characters), a 12-byte nonce, the ciphertext and the 16-byte tag; the blob's name (its
 * plaintext SHA-256) is authenticated with it, so a sealed file cannot be moved under another
 * name. Files without the magic are plaintext written before encryption was switched on and are
 * read as they are.
 */

const magic = Buffer.from('WAB2');
const idLength = 16;
const headerLength = magic.length + idLength + 12;

// Random 96-bit GCM nonces, drawn from the system's generator a few kilobytes at a time: one call
// per sealed mail cost the composer thread more than the encryption itself. Each nonce is still
// 12 fresh random bytes, used once.
const noncesPerDraw = 256;
let nonces = Buffer.alloc(0);
let nextNonce = 0;
function freshNonce(): Buffer {
  if (nextNonce + 12 > nonces.length) {
    nonces = randomBytes(12 * noncesPerDraw);
    nextNonce = 0;
  }
  const nonce = nonces.subarray(nextNonce, nextNonce + 12);
  nextNonce += 12;
  return nonce;
}

/** Data keys by id, and which one seals new blobs. Plain data, so it can go to a worker thread. */
export interface BlobKeys {
  activeId: string;
  keys: Array<[id: string, key: Uint8Array]>;
}

export interface BlobCipher {
  seal(plain: Uint8Array, hash: string): Buffer;
  open(stored: Buffer, hash: string): Buffer;
}

/** A blob that no longer decrypts: changed on disk, or sealed with a key this store lacks. */
export class UnreadableBlobError extends BadInputError {
  constructor(hash: string, why: string) {
    super('blob_unreadable', `blob ${hash.slice(0, 12)}… does not decrypt: ${why}`);
  }
}

/**
 * `seal: false` reads sealed blobs but writes new ones plain (encryption switched off after it
 * was on: what was sealed stays readable).
 */
export function blobCipher(keys: BlobKeys, options: { seal: boolean } = { seal: true }): BlobCipher {
  const byId = new Map(keys.keys.map(([id, key]) => [id, Buffer.from(key)]));
  const active = byId.get(keys.activeId);
  if (!active || !/^[0-9a-f]{16}$/.test(keys.activeId)) throw new Error('the active data key is missing');
  const aad = (hash: string) => Buffer.from(`wa-bridge-blob:v1:${hash}`, 'utf8');
  return {
    seal(plain, hash) {
      if (!options.seal) return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
      const nonce = freshNonce();
      const cipher = createCipheriv('aes-256-gcm', active, nonce);
      cipher.setAAD(aad(hash));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([magic, Buffer.from(keys.activeId, 'ascii'), nonce, body, cipher.getAuthTag()]);
    },
    open(stored, hash) {
      if (stored.length < magic.length || !stored.subarray(0, magic.length).equals(magic)) return stored;
      if (stored.length < headerLength + 16) throw new UnreadableBlobError(hash, 'the file is cut short');
      const id = stored.subarray(magic.length, magic.length + idLength).toString('ascii');
      const key = byId.get(id);
      if (!key) {
        if (createHash('sha256').update(stored).digest('hex') === hash) return stored;
        throw new UnreadableBlobError(hash, `it was sealed with data key ${id}, which this store does not have`);
      }
      const decipher = createDecipheriv('aes-256-gcm', key, stored.subarray(magic.length + idLength, headerLength));
      decipher.setAAD(aad(hash));
      decipher.setAuthTag(stored.subarray(stored.length - 16));
      try {
        return Buffer.concat([decipher.update(stored.subarray(headerLength, stored.length - 16)), decipher.final()]);
      } catch {
        // A plain file that happens to begin with the magic is still itself.
        if (createHash('sha256').update(stored).digest('hex') === hash) return stored;
        throw new UnreadableBlobError(hash, 'its bytes were changed or damaged after it was stored');
      }
    },
  };
}
