import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Config } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import { blobCipher, type BlobKeys } from '../store/blob-cipher.js';
import { mediaStoreAt, type MediaBlobStore } from '../store/blob-store.js';
import { InlineBlobStore } from '../store/blob-inline.js';
import type { Executor } from '../store/executor.js';
import { loadMasterKey, unwrapKey, wrapKey, type MasterKey } from './crypto.js';

/**
 * The data keys that seal blobs at rest: stored wrapped by the master key in data_keys, one of
 * them active for new blobs. Rotating the master key re-wraps these rows; the blobs stay as
 * they are.
 */

interface DataKeysTable {
  id: string;
  wrapped: string;
  master_key_id: string;
  created_at: number;
  active: number;
}
type WithKeys = Kysely<{ data_keys: DataKeysTable }>;
const keysOf = (db: Executor): WithKeys => db.withTables<{ data_keys: DataKeysTable }>() as unknown as WithKeys;

/** Every data key, unwrapped; with `create`, makes the first (active) one when there is none. */
export async function loadBlobKeys(db: Executor, master: MasterKey, create: boolean): Promise<BlobKeys | undefined> {
  let rows = await keysOf(db).selectFrom('data_keys').selectAll().orderBy('created_at').execute();
  if (rows.length === 0) {
    if (!create) return undefined;
    await keysOf(db)
      .insertInto('data_keys')
      .values({ id: randomBytes(8).toString('hex'), wrapped: wrapKey(master, randomBytes(32)), master_key_id: master.id, created_at: Date.now(), active: 1 })
      .onConflict((oc) => oc.doNothing())
      .execute();
    rows = await keysOf(db).selectFrom('data_keys').selectAll().orderBy('created_at').execute();
  }
  const keys: BlobKeys['keys'] = rows.map((row) => {
    if (row.master_key_id !== master.id) throw new ConfigError(`WA_BRIDGE_MASTER_KEY: data key ${row.id} is wrapped under master key ${row.master_key_id}, but the configured master key is ${master.id}; stored media cannot be read with it`);
    return [row.id, unwrapKey(master, row.wrapped)];
  });
  const active = rows.find((row) => row.active === 1) ?? rows.at(-1)!;
  return { activeId: active.id, keys };
}

/** Re-wraps every data key under `next` (master key rotation); returns how many. */
export async function rewrapDataKeys(db: Executor, current: MasterKey, next: MasterKey): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const rows = await keysOf(tx).selectFrom('data_keys').selectAll().execute();
    for (const row of rows) {
      if (row.master_key_id === next.id) continue;
      await keysOf(tx).updateTable('data_keys').set({ wrapped: wrapKey(next, unwrapKey(current, row.wrapped)), master_key_id: next.id }).where('id', '=', row.id).execute();
    }
    return rows.length;
  });
}

/**
 * The configured blob store (WA_BRIDGE_MEDIA_STORE, else <data dir>/blobs), sealing new blobs when
 * WA_BRIDGE_BLOB_ENCRYPTION is on and opening sealed ones whenever data keys exist (so switching
 * it off never strands media).
 */
export async function openBlobStore(
  config: Pick<Config, 'dataDir' | 'masterKey' | 'blobEncryption'> & { mediaStore?: Config['mediaStore'] },
  db: Executor,
): Promise<{ store: MediaBlobStore; keys: BlobKeys | undefined }> {
  const keys = await loadBlobKeys(db, loadMasterKey(config.dataDir, config.masterKey), config.blobEncryption);
  const own = path.join(config.dataDir, 'blobs');
  const location = config.mediaStore ?? { kind: 'file' as const, root: own };
  // The data dir's own blobs/ is made when missing; a configured directory must be there already.
  const createRoot = location.kind === 'file' && location.root === own;
  const cipher = keys ? blobCipher(keys, { seal: config.blobEncryption }) : undefined;
  // Small relayed mails keep their bytes in the database (blob-inline.ts); the rest are in the store.
  return { store: new InlineBlobStore(db, await mediaStoreAt(location, cipher, { createRoot }), cipher), keys };
}
