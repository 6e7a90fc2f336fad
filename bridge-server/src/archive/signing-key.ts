import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

/**
 * The Ed25519 key that signs checkpoints. By default it lives in <data dir>/keys/checkpoint.pem,
 * made on first use; an operator may keep it elsewhere (a mounted secret) and name the file.
 * Public keys travel as the base64url of their 32 raw bytes, as in a JWK's `x`.
 */
export interface CheckpointKey {
  readonly publicKey: string;
  sign(payload: string): string;
}

export function loadCheckpointKey(dataDir: string, keyFile?: string): CheckpointKey {
  const file = keyFile ?? path.join(dataDir, 'keys', 'checkpoint.pem');
  if (!keyFile) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    try {
      // Exclusive create: two processes starting at once end up with one key.
      writeFileSync(file, pem, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (error) {
    const problem = `checkpoint key ${file} cannot be read as a PEM private key: ${(error as Error).message}`;
    // A configured file that is missing or wrong is a setting to fix: named, and the usage exit code.
    if (keyFile) throw new ConfigError(`WA_BRIDGE_CHECKPOINT_KEY_FILE: ${problem}`);
    throw new Error(problem, { cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`checkpoint key ${file} is a ${privateKey.asymmetricKeyType ?? 'unknown'} key; an Ed25519 key is needed`);
  const publicKey = publicKeyText(createPublicKey(privateKey));
  return { publicKey, sign: (payload) => sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64url') };
}

export function publicKeyText(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('not an Ed25519 public key');
  return jwk.x;
}

/** True when `signature` is `publicKey`'s Ed25519 signature of `payload`; false for any malformed input. */
export function verifyCheckpointSignature(publicKey: string, payload: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return verify(null, Buffer.from(payload, 'utf8'), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
