import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWaBridge } from '../support/cli.js';
import { openRawStore, openTestDatabase } from '../support/test-database.js';

// Media sealed at rest, so the store has a data key wrapped under the master key.
const settings = { WA_BRIDGE_RETENTION_SCHEDULE: 'off', WA_BRIDGE_BLOB_ENCRYPTION: 'on' };

/** The master key id a sealed file's header names. */
const headerKeyOf = async (file: string): Promise<string> => {
  const text = (await readFile(file)).subarray(0, 4096).toString('utf8');
  return (JSON.parse(text.split('\n')[1]!) as { masterKeyId: string }).masterKeyId;
};

/**
 * `keys rotate` checks every backup directory and every backup before it changes anything, and
 * undoes what it did when a step fails midway; `keys rewrap` brings copies sealed under the old
 * key over to the current one. Real store, real backups, the real command.
 */
describe('master key rotation and re-wrapping', () => {
  let dataDir: string;
  let backupDir: string;
  let work: string;
  const keysDir = () => path.join(dataDir, 'keys');
  const waBridge = (args: string[], env: Record<string, string> = {}) => runWaBridge(dataDir, args, { ...settings, ...env });
  const dataKeys = async () => {
    const db = await openRawStore(dataDir, { readonly: true });
    try {
      return await db.all<{ id: string; master_key_id: string }>('SELECT id, master_key_id FROM data_keys ORDER BY id');
    } finally {
      await db.close();
    }
  };
  const backups = async (dir = backupDir) => (await readdir(dir)).filter((name) => /^wa-bridge-backup-.*\.wabk$/.test(name)).sort().map((name) => path.join(dir, name));
  /** What a rotation may change: the key files, the data keys' master key and each backup's. */
  const keyState = async () => ({
    keyFiles: Object.fromEntries(await Promise.all((await readdir(keysDir())).sort().map(async (name) => [name, await readFile(path.join(keysDir(), name), 'utf8')]))),
    dataKeys: await dataKeys(),
    backups: await Promise.all((await backups()).map(async (file) => [path.basename(file), await headerKeyOf(file)])),
  });
  /** The store and the newest backup still open with the configured key. */
  const expectReadable = async () => {
    const verify = await waBridge(['verify']);
    expect(verify.code, verify.stderr).toBe(0);
    const backup = await waBridge(['backup', 'verify', (await backups()).at(-1)!]);
    expect(backup.code, backup.stderr).toBe(0);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-keys-data-'));
    backupDir = await mkdtemp(path.join(tmpdir(), 'wab-keys-backups-'));
    work = await mkdtemp(path.join(tmpdir(), 'wab-keys-work-'));
    await (await openTestDatabase(dataDir)).close();
    for (let i = 0; i < 2; i += 1) {
      const made = await waBridge(['backup', '--out-dir', backupDir]);
      expect(made.code, made.stderr).toBe(0);
    }
    expect(await backups()).toHaveLength(2);
    expect(await dataKeys()).toHaveLength(1);
  });

  afterAll(async () => {
    for (const dir of [dataDir, backupDir, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a backup directory that does not exist in one line, before anything is re-wrapped', async () => {
    const before = await keyState();
    const missing = path.join(work, 'not-there');
    const result = await waBridge(['keys', 'rotate', '--backup-dir', backupDir, missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`wa-bridge: --backup-dir ${missing}: does not exist; nothing was changed\n`);
    expect(await keyState()).toEqual(before);
    await expectReadable();
  });

  it('refuses a backup sealed under a key that is not the current one, before anything is re-wrapped', async () => {
    const before = await keyState();
    const [first] = await backups();
    const strange = path.join(work, 'strange');
    await mkdir(strange);
    // The key id is not bound to the contents: a header naming another key is what a copy under an older key looks like.
    const bytes = await readFile(first!);
    const foreign = path.join(strange, path.basename(first!));
    await writeFile(foreign, Buffer.from(bytes.toString('latin1').replace(await headerKeyOf(first!), '0123456789abcdef'), 'latin1'));
    const result = await waBridge(['keys', 'rotate', '--backup-dir', backupDir, strange]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^wa-bridge: ${foreign} is sealed under master key 0123456789abcdef, not the current key [0-9a-f]{16}: re-wrap it first .*; nothing was changed\\n$`));
    expect(await keyState()).toEqual(before);
    await rm(strange, { recursive: true });
  });

  it('undoes a rotation that fails while re-wrapping the backups: data keys and backups back under the current key, no new key file', async () => {
    const before = await keyState();
    const [, second] = await backups();
    // What a rotation killed midway leaves behind blocks the second backup's re-wrap; it is not ours to remove.
    await writeFile(`${second!}.rewrap`, 'left over');
    try {
      const result = await waBridge(['keys', 'rotate', '--backup-dir', backupDir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^wa-bridge: master key not rotated, nothing was changed \(the database and every backup are under key [0-9a-f]{16}, as before\): EEXIST: [^\n]*\.rewrap'\n$/);
      expect(await readFile(`${second!}.rewrap`, 'utf8')).toBe('left over');
    } finally {
      await rm(`${second!}.rewrap`);
    }
    expect(await keyState()).toEqual(before);
    await expectReadable();
  });

  it('undoes a rotation that fails at swapping the key files, after the database and every backup were re-wrapped', async () => {
    const before = await keyState();
    const currentId = before.dataKeys[0]!.master_key_id;
    const blocker = path.join(keysDir(), `master-${currentId}.key.old`);
    await mkdir(path.join(blocker, 'in-the-way'), { recursive: true });
    try {
      const result = await waBridge(['keys', 'rotate', '--backup-dir', backupDir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^wa-bridge: master key not rotated, nothing was changed \\(the database and every backup are under key ${currentId}, as before\\): [^\\n]*rename[^\\n]*\\n$`));
    } finally {
      await rm(blocker, { recursive: true });
    }
    expect(await keyState()).toEqual(before);
    await expectReadable();
  });

  it('re-wraps copies held elsewhere from the old key to the current one, skipping those already under it and refusing any other key first', async () => {
    const elsewhere = path.join(work, 'elsewhere');
    await mkdir(elsewhere);
    for (const file of await backups()) await copyFile(file, path.join(elsewhere, path.basename(file)));
    const rotated = await waBridge(['keys', 'rotate', '--backup-dir', backupDir]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const [, oldId, newId] = /^master key ([0-9a-f]{16}) -> ([0-9a-f]{16}): 1 data key\(s\) and 2 backup\(s\) re-wrapped$/m.exec(rotated.stdout)!;
    const oldKeyFile = path.join(keysDir(), `master-${oldId}.key.old`);
    expect(rotated.stdout).toContain(`wa-bridge keys rewrap --old-key-file ${oldKeyFile} --backup-dir DIR`);
    // The copies still need the old key: rotating again refuses them rather than strand them.
    const stale = await waBridge(['keys', 'rotate', '--backup-dir', elsewhere]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain(`is sealed under master key ${oldId}, not the current key ${newId}`);

    const copies = await backups(elsewhere);
    // A third copy under a key that is neither stops the command before the others are touched.
    const foreign = path.join(elsewhere, 'wa-bridge-backup-20200101T000000000Z.wabk');
    await writeFile(foreign, Buffer.from((await readFile(copies[0]!)).toString('latin1').replace(oldId!, 'fedcba9876543210'), 'latin1'));
    const refused = await waBridge(['keys', 'rewrap', '--old-key-file', oldKeyFile, '--backup-dir', elsewhere]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`wa-bridge: ${foreign} is sealed under master key fedcba9876543210, which is neither the current key (${newId}) nor that of --old-key-file (${oldId}); nothing was changed\n`);
    expect(await Promise.all(copies.map(headerKeyOf))).toEqual([oldId, oldId]);
    await rm(foreign);

    const rewrapped = await waBridge(['keys', 'rewrap', '--old-key-file', oldKeyFile, '--backup-dir', elsewhere, backupDir]);
    expect(rewrapped.code, rewrapped.stderr).toBe(0);
    expect(rewrapped.stdout).toContain(`2 backup(s) re-wrapped from master key ${oldId} to ${newId}; 2 already under it`);
    expect(await Promise.all(copies.map(headerKeyOf))).toEqual([newId, newId]);
    const copy = await waBridge(['backup', 'verify', copies[1]!]);
    expect(copy.code, copy.stderr).toBe(0);
    const again = await waBridge(['keys', 'rewrap', '--old-key-file', oldKeyFile, '--backup-dir', elsewhere]);
    expect(again.stdout).toContain('0 backup(s) re-wrapped');

    const current = await waBridge(['keys', 'rewrap', '--old-key-file', path.join(keysDir(), 'master.key'), '--backup-dir', elsewhere]);
    expect(current.code).toBe(2);
    expect(current.stderr).toContain(`that is the current master key (${newId})`);
    const notAKey = path.join(work, 'not-a-key');
    await writeFile(notAKey, 'hello\n');
    const bad = await waBridge(['keys', 'rewrap', '--old-key-file', notAKey, '--backup-dir', elsewhere]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--old-key-file ${notAKey}: expected a master key`);
    const help = await waBridge(['keys', 'rewrap', '--help']);
    expect(help.stdout).toContain('--old-key-file <file>');
  });
});
