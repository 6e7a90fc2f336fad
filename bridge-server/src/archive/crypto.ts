import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { loadOrCreateKey } from '../config/secrets.js';
import { BadInputError } from '../core/errors.js';
import { sha256 } from '../core/ids.js';

/**
 * Envelope encryption with AES-256-GCM (NIST SP 800-38D). Each sealed file has its own random
 * data key; the data key is stored in the file's header wrapped (AES-256-GCM too) by the master
 * key, which never leaves the server's keys. Rotating the master key therefore means re-wrapping
 * headers, not re-encrypting contents. What the header says about the contents (format, nonce,
 * kind) is bound to them as additional authenticated data; the wrapping is not, so it can be
 * replaced, and a wrong or altered wrapping simply fails to unwrap.
 */

export interface MasterKey {
  /** First 16 hex digits of the key's SHA-256: names the key without revealing it. */
  readonly id: string;
  readonly key: Buffer;
}

/**
 * A key derived from a passphrase with scrypt (RFC 7914; N=2^15, r=8, p=1), for bundles handed to
 * someone outside the firm. Its id carries the salt, so the header says how to derive it again.
 */
export function passphraseKey(passphrase: string, salt: Buffer = randomBytes(16)): MasterKey {
  if (passphrase.length < 12) throw new BadInputError('weak_passphrase', 'the passphrase must be at least 12 characters');
  const key = scryptSync(passphrase.normalize('NFC'), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return { id: `passphrase:${salt.toString('base64')}`, key };
}

/** The key that opens `file`: derived from the passphrase with the salt its header names. */
export async function passphraseKeyFor(file: string, passphrase: string): Promise<MasterKey> {
  const { header } = await readSealedHeader(file);
  if (!header.masterKeyId.startsWith('passphrase:')) throw new BadInputError('not_passphrase', `${file} was sealed with the archive's master key, not a passphrase`);
  return passphraseKey(passphrase, Buffer.from(header.masterKeyId.slice('passphrase:'.length), 'base64'));
}

/** WA_BRIDGE_MASTER_KEY (base64 of 32 bytes) when set, else <data dir>/keys/master.key, made on first use. */
export function loadMasterKey(dataDir: string, configured?: string): MasterKey {
  const key = configured !== undefined ? Buffer.from(configured, 'base64') : loadOrCreateKey(dataDir, 'master');
  if (key.length !== 32) throw new BadInputError('bad_master_key', 'WA_BRIDGE_MASTER_KEY: expected 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)');
  return { id: sha256(key).toString('hex').slice(0, 16), key };
}

const magic = 'WABK1\n';

interface Header {
  v: 1;
  alg: 'AES-256-GCM';
  masterKeyId: string;
  /** The data key wrapped by the master key: nonce, ciphertext and tag, base64. */
  wrappedKey: string;
  nonce: string;
  /** What the file holds, e.g. "backup". */
  kind: string;
}

/** A data key wrapped (AES-256-GCM) by the master key: nonce, ciphertext and tag, base64. */
export function wrapKey(master: MasterKey, dataKey: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', master.key, nonce);
  const sealed = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64');
}

export function unwrapKey(master: MasterKey, wrapped: string): Buffer {
  const bytes = Buffer.from(wrapped, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', master.key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
}

function headerBytes(header: Header): Buffer {
  return Buffer.from(`${magic}${JSON.stringify(header)}\n`, 'utf8');
}

/** The authenticated part of a header: everything but the key wrapping. */
function boundData(header: Header): Buffer {
  return Buffer.from(`${magic}${header.v}\n${header.alg}\n${header.nonce}\n${header.kind}\n`, 'utf8');
}

/** Encrypts `source` into `target` (which must not exist), streaming; `onProgress` hears the bytes read of `source`'s size. */
export async function sealFile(master: MasterKey, source: string, target: string, kind: string, onProgress?: (done: number, total: number) => void): Promise<void> {
  const dataKey = randomBytes(32);
  const nonce = randomBytes(12);
  const fields: Header = { v: 1, alg: 'AES-256-GCM', masterKeyId: master.id, wrappedKey: wrapKey(master, dataKey), nonce: nonce.toString('base64'), kind };
  const header = headerBytes(fields);
  const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
  cipher.setAAD(boundData(fields));
  const out = createWriteStream(target, { flags: 'wx', mode: 0o600 });
  out.write(header);
  const input = createReadStream(source);
  if (onProgress) {
    const total = (await stat(source)).size;
    input.on('data', () => {
      try {
        onProgress(input.bytesRead, total);
      } catch (error) {
        // A progress display that fails ends the sealing with its error.
        input.destroy(error as Error);
      }
    });
  }
  await pipeline(input, cipher, out, { end: false });
  await new Promise<void>((resolve, reject) => out.end(cipher.getAuthTag(), (error?: Error | null) => (error ? reject(error) : resolve())));
}

/** Reads a sealed file's header: which master key it needs and what it holds. */
export async function readSealedHeader(file: string): Promise<{ header: Header; raw: Buffer }> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.indexOf('\n', magic.length);
    if (!text.startsWith(magic) || end === -1) throw new BadInputError('not_sealed', `${file} is not a wa-bridge encrypted file`);
    let header: Header;
    try {
      header = JSON.parse(text.slice(magic.length, end)) as Header;
    } catch {
      throw new BadInputError('not_sealed', `${file} has a damaged header`);
    }
    if (header.v !== 1 || header.alg !== 'AES-256-GCM') throw new BadInputError('not_sealed', `${file} uses an encryption this version does not know`);
    return { header, raw: Buffer.from(text.slice(0, end + 1), 'utf8') };
  } finally {
    await handle.close();
  }
}

/**
 * Decrypts `source` into `target` (made 0600; it must not exist). A wrong master key, or any
 * changed byte of header or contents, fails with a clear error and removes the partial output.
 */
export async function openSealedFile(master: MasterKey, source: string, target: string): Promise<{ kind: string }> {
  const { header, raw } = await readSealedHeader(source);
  const length = raw.length;
  if (header.masterKeyId !== master.id) throw new BadInputError('wrong_key', `${source} was encrypted under master key ${header.masterKeyId}; this store's master key is ${master.id}. Set WA_BRIDGE_MASTER_KEY to the key it was made with.`);
  const wrongKey = master.id.startsWith('passphrase:') ? 'the passphrase is wrong' : 'the master key does not open its data key (wrong key, or the header was altered)';
  let dataKey: Buffer;
  try {
    dataKey = unwrapKey(master, header.wrappedKey);
  } catch {
    throw new BadInputError('wrong_key', `${source}: ${wrongKey}`);
  }
  const size = (await stat(source)).size;
  if (size < length + 16) throw new BadInputError('truncated', `${source} is cut short`);
  const tag = Buffer.alloc(16);
  const handle = await open(source, 'r');
  try {
    await handle.read(tag, 0, 16, size - 16);
  } finally {
    await handle.close();
  }
  const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(header.nonce, 'base64'));
  decipher.setAAD(boundData(header));
  decipher.setAuthTag(tag);
  const out = createWriteStream(target, { flags: 'wx', mode: 0o600 });
  // Only a file this call made is removed: one already at `target` fails the open and stays.
  let created = false;
  out.once('open', () => (created = true));
  try {
    await pipeline(createReadStream(source, { start: length, end: size - 17 }), decipher, out);
  } catch (error) {
    if (created) await rm(target, { force: true });
    if ((error as Error).message.includes('authenticate')) throw new BadInputError('tampered', `${source} does not decrypt: it was altered or damaged after it was made`);
    throw error;
  }
  return { kind: header.kind };
}

/**
 * Re-wraps a sealed file's data key under `next` (key rotation): the contents are copied as they
 * are, never decrypted; the file is replaced atomically. Files already under `next` are left.
 */
export async function rewrapSealedFile(current: MasterKey, next: MasterKey, file: string): Promise<'rewrapped' | 'already'> {
  const { header, raw } = await readSealedHeader(file);
  if (header.masterKeyId === next.id) return 'already';
  if (header.masterKeyId !== current.id) throw new BadInputError('wrong_key', `${file} was encrypted under master key ${header.masterKeyId}, which is neither the current key (${current.id}) nor the new one`);
  let dataKey: Buffer;
  try {
    dataKey = unwrapKey(current, header.wrappedKey);
  } catch {
    throw new BadInputError('wrong_key', `${file}: the current master key does not open its data key`);
  }
  const updated = headerBytes({ ...header, masterKeyId: next.id, wrappedKey: wrapKey(next, dataKey) });
  const temp = `${file}.rewrap`;
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  let created = false;
  out.once('open', () => (created = true));
  try {
    out.write(updated);
    await pipeline(createReadStream(file, { start: raw.length }), out);
    await rename(temp, file);
  } catch (error) {
    if (created) await rm(temp, { force: true });
    throw error;
  }
  return 'rewrapped';
}
