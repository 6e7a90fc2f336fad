import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobCipher, UnreadableBlobError } from './blob-cipher.js';

const keys = { activeId: 'a1b2c3d4e5f60718', keys: [['a1b2c3d4e5f60718', randomBytes(32)] as [string, Uint8Array]] };
const hashOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('blobCipher', () => {
  const cipher = blobCipher(keys);
  const plain = Buffer.from('the signed lease, page 1');
  const hash = hashOf(plain);

  it('seals so the bytes are not on disk, and opens them again', () => {
    const sealed = cipher.seal(plain, hash);
    expect(sealed.subarray(0, 4).toString()).toBe('WAB2');
    expect(sealed.includes(plain)).toBe(false);
    expect(cipher.open(sealed, hash).equals(plain)).toBe(true);
  });

  it('never seals twice under the same nonce, across many draws from the random pool', () => {
    // Header: "WAB2", 16 characters of key id, then the 12-byte nonce.
    const nonces = new Set<string>();
    for (let i = 0; i < 1000; i += 1) {
      const sealed = cipher.seal(plain, hash);
      nonces.add(sealed.subarray(20, 32).toString('hex'));
      if (i % 97 === 0) expect(cipher.open(sealed, hash).equals(plain)).toBe(true);
    }
    expect(nonces.size).toBe(1000);
  });

  it('refuses a changed byte, and a sealed file moved under another name', () => {
    const sealed = cipher.seal(plain, hash);
    const changed = Buffer.from(sealed);
    changed[30] = changed[30]! ^ 1;
    expect(() => cipher.open(changed, hash)).toThrow(UnreadableBlobError);
    expect(() => cipher.open(sealed, hashOf(Buffer.from('another file')))).toThrow(/changed or damaged/);
  });

  it('reads plain files as they are, even one that happens to begin like a sealed one', () => {
    expect(cipher.open(plain, hash).equals(plain)).toBe(true);
    const lookalike = Buffer.concat([Buffer.from('WAB2a1b2c3d4e5f60718'), randomBytes(64)]);
    expect(cipher.open(lookalike, hashOf(lookalike)).equals(lookalike)).toBe(true);
  });

  it('names a data key the store does not have', () => {
    const other = blobCipher({ activeId: 'ffffffffffffffff', keys: [['ffffffffffffffff', randomBytes(32)]] });
    expect(() => cipher.open(other.seal(plain, hash), hash)).toThrow(/sealed with data key ffffffffffffffff, which this store does not have/);
  });

  it('writes plain when sealing is off, and still opens what was sealed', () => {
    const readOnly = blobCipher(keys, { seal: false });
    expect(readOnly.seal(plain, hash).equals(plain)).toBe(true);
    expect(readOnly.open(cipher.seal(plain, hash), hash).equals(plain)).toBe(true);
  });
});
