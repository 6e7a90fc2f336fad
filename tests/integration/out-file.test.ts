import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { inboundMessage } from '../../bridge-server/src/channels/simulator/builders.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { runWaBridge } from '../support/cli.js';
import { openTestDatabase } from '../support/test-database.js';

/**
 * `export`, `gdpr access` and `decrypt` write only a file that did not exist: an existing --out is
 * refused up front with one line and exit 2, and is left exactly as it was.
 */
describe('an --out that already exists', () => {
  let dataDir: string;
  let work: string;
  let chatId = '';
  let passphraseFile = '';
  const phone = '447700900777';
  const waBridge = (...args: string[]) => runWaBridge(dataDir, args, { WA_BRIDGE_RETENTION_SCHEDULE: 'off' });
  /** A file someone already has at the name, and a check that it is still there, unchanged and alone. */
  const existing = async (name: string) => {
    const file = path.join(work, name);
    await writeFile(file, 'important\n');
    const names = (await readdir(work)).sort();
    return {
      file,
      async expectUntouched() {
        expect(await readFile(file, 'utf8')).toBe('important\n');
        expect((await readdir(work)).sort()).toEqual(names);
      },
    };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-out-data-'));
    work = await mkdtemp(path.join(tmpdir(), 'wab-out-work-'));
    const opened = await openTestDatabase(dataDir);
    try {
      const store = new SqlStore(opened.db, 'default');
      const batch = normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(inboundMessage({ from: phone, name: 'Olive', type: 'text', body: 'Please keep this.' })))));
      const { opened: conversations } = await ingestBatch({ store, clock: { now: () => Date.now() }, tenant: 'default' }, batch);
      chatId = (await opened.db.selectFrom('conversations').select('chat_token').where('id', '=', conversations[0]!.id).executeTakeFirstOrThrow()).chat_token;
    } finally {
      await opened.close();
    }
    passphraseFile = path.join(work, 'passphrase.txt');
    await writeFile(passphraseFile, 'correct horse battery staple\n');
  });

  afterAll(async () => {
    for (const dir of [dataDir, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('export refuses it before any work, with or without a passphrase, and writes a new name as asked', async () => {
    const keep = await existing('keep.zip');
    const plain = await waBridge('export', '--conversation', chatId, '--out', keep.file);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe(`wa-bridge: --out ${keep.file}: already exists; name a file that does not exist (it was left as it is)\n`);
    await keep.expectUntouched();

    const sealed = await waBridge('export', '--conversation', chatId, '--out', keep.file, '--passphrase-file', passphraseFile);
    expect(sealed.code).toBe(2);
    expect(sealed.stderr).toBe(`wa-bridge: --out ${keep.file}: already exists; name a file that does not exist (it was left as it is)\n`);
    await keep.expectUntouched();
    // Refused before the work: nothing was exported, so nothing was recorded.
    expect((await waBridge('audit', '--action', 'export', '--format', 'json')).stdout.trim()).toBe('');

    const fresh = path.join(work, 'fresh.zip');
    const made = await waBridge('export', '--conversation', chatId, '--out', fresh);
    expect(made.code, made.stderr).toBe(0);
    expect((await waBridge('verify-bundle', fresh)).code).toBe(0);
    // Only the bundle: no temporary file is left beside it.
    expect((await readdir(work)).sort()).toEqual(['fresh.zip', 'keep.zip', 'passphrase.txt']);
    await rm(fresh);
  });

  it('decrypt refuses it before deriving the key, and leaves it in place', async () => {
    const sealedFile = path.join(work, 'evidence.enc');
    const sealed = await waBridge('export', '--conversation', chatId, '--out', sealedFile, '--passphrase-file', passphraseFile);
    expect(sealed.code, sealed.stderr).toBe(0);

    const report = await existing('report.zip');
    const refused = await waBridge('decrypt', sealedFile, '--passphrase-file', passphraseFile, '--out', report.file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`wa-bridge: --out ${report.file}: already exists; name a file that does not exist (it was left as it is)\n`);
    await report.expectUntouched();

    // A wrong passphrase makes nothing either.
    const wrong = path.join(work, 'wrong.txt');
    await writeFile(wrong, 'not the passphrase at all\n');
    const opened = path.join(work, 'opened.zip');
    const failed = await waBridge('decrypt', sealedFile, '--passphrase-file', wrong, '--out', opened);
    expect(failed.code).toBe(2);
    expect(await readdir(work)).not.toContain('opened.zip');

    const decrypted = await waBridge('decrypt', sealedFile, '--passphrase-file', passphraseFile, '--out', opened);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect((await waBridge('verify-bundle', opened)).code).toBe(0);
    for (const file of [sealedFile, report.file, wrong, opened]) await rm(file);
  });

  it('gdpr access refuses it and leaves it in place', async () => {
    const dsar = await existing('dsar.zip');
    const refused = await waBridge('gdpr', 'access', '--phone', `+${phone}`, '--out', dsar.file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`wa-bridge: --out ${dsar.file}: already exists; name a file that does not exist (it was left as it is)\n`);
    await dsar.expectUntouched();
    expect((await waBridge('audit', '--action', 'gdpr.access', '--format', 'json')).stdout.trim()).toBe('');
    await rm(dsar.file);
  });
});
