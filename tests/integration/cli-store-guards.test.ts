import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWaBridge } from '../support/cli.js';
import { onPostgres } from '../support/test-database.js';

const exportFile = path.resolve(import.meta.dirname, '../fixtures/exports/android-24h-uk-dash.txt');

/**
 * What the CLI does when its settings do not fit the store: a command run without the service's
 * settings, a sandbox started over real conversations, a changed tenant. Each stops with one line
 * naming the setting, and the store is left as it was.
 */
describe('the wa-bridge CLI and the store its settings name', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wa-cli-guards-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(onPostgres)('stops, instead of making an empty store, when the data dir holds none', async () => {
    const dataDir = path.join(dir, 'data');
    for (const args of [['verify'], ['audit'], ['export', '--conversation', '1', '--out', path.join(dir, 'out.zip')], ['backup', '--out-dir', dir], ['retention', 'run', '--dry-run'], ['jobs', 'list'], ['keys', 'rotate']]) {
      const result = await runWaBridge(dataDir, args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toBe(`wa-bridge: no archive at ${path.join(dataDir, 'wa-bridge.sqlite')}: set WA_BRIDGE_DATA_DIR (or WA_BRIDGE_DATABASE_URL) as the bridge's service has it\n`);
    }
    expect(existsSync(path.join(dataDir, 'wa-bridge.sqlite'))).toBe(false);
    expect(await readdir(dir)).not.toContain('out.zip');
  });

  it('does not start the sandbox over imported conversations, nor start under another tenant', async () => {
    const dataDir = path.join(dir, 'data');
    const imported = await runWaBridge(dataDir, ['import', exportFile, '--client-phone', '+44 7700 900456', '--firm-author', 'Tom Baker']);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    // What the command made is its owner's alone, whatever the shell's umask.
    const made = [dataDir, path.join(dataDir, 'keys', 'master.key'), ...(onPostgres ? [] : [path.join(dataDir, 'wa-bridge.sqlite')])];
    expect(made.map((file) => [file, (statSync(file).mode & 0o077).toString(8)])).toEqual(made.map((file) => [file, '0']));

    const sandbox = await runWaBridge(dataDir, ['serve'], { PORT: '0' }, 60_000);
    expect(sandbox.killedAfterMs).toBeUndefined();
    expect(sandbox.code).toBe(2);
    expect(sandbox.stderr).toMatch(/^wa-bridge: WA_BRIDGE_SANDBOX: the store at .* holds conversations that did not come from the sandbox \(from an imported chat\)/);
    expect(sandbox.stderr.trim().split('\n')).toHaveLength(1);

    const otherTenant = await runWaBridge(dataDir, ['serve'], { PORT: '0', WA_BRIDGE_TENANT: 'another-firm' }, 60_000);
    expect(otherTenant.code).toBe(2);
    expect(otherTenant.stderr).toMatch(/^wa-bridge: WA_BRIDGE_TENANT: the store at .* holds the conversations of tenant "default", not "another-firm"/);

    // Nothing was changed: the archive still verifies, with the imported messages. No checkpoint
    // has signed them yet, and verify says so, until one does.
    const verified = await runWaBridge(dataDir, ['verify']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^OK 1 conversation\(s\), 6 event\(s\)/);
    expect(verified.stdout).toMatch(/^NOTE 6 event\(s\) and 1 audit entries are not signed yet, no checkpoint has been signed yet: /m);
    expect((await runWaBridge(dataDir, ['checkpoint'])).code).toBe(0);
    const signed = await runWaBridge(dataDir, ['verify']);
    expect(signed.stdout).toMatch(/^OK 1 conversation\(s\), 6 event\(s\), \d+ blob\(s\), 1 checkpoint\(s\)/);
    expect(signed.stdout).not.toContain('NOTE');
  });

  it('warns when imported history is already past its retention period, and says how to keep it', async () => {
    const dataDir = path.join(dir, 'data');
    const args = ['import', exportFile, '--client-phone', '+44 7700 900456', '--firm-author', 'Tom Baker'];
    // The export's messages are from March 2024: two years on, the default period has run out.
    const old = await runWaBridge(dataDir, args, { WA_BRIDGE_RETENTION_YEARS: 'default:2' });
    expect(old.code).toBe(0);
    const chatId = /chat id ([a-z2-7]{26})/.exec(old.stdout)![1]!;
    expect(old.stderr).toBe(
      `wa-bridge: warning: conversation ${chatId} is past its retention period (default: 2 years after the last activity (never linked to a matter)), so the next retention run deletes it (they run daily); to keep it, link it to a matter (--matter REF) or place a hold (wa-bridge hold place --conversation ${chatId} --reason TEXT)\n`,
    );
    // Within the period, nothing to say.
    const again = await runWaBridge(dataDir, args);
    expect([again.code, again.stderr]).toEqual([0, '']);
  });

  it('names the setting or the file when what it names is not there', async () => {
    const dataDir = path.join(dir, 'data');
    const serve = await runWaBridge(dataDir, ['serve'], { PORT: '0', WA_BRIDGE_HOST: 'wa-bridge.invalid' }, 60_000);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toMatch(/^wa-bridge: WA_BRIDGE_HOST: wa-bridge\.invalid is not an address, and no name server knows it as a name/);
    const key = await runWaBridge(dataDir, ['checkpoint'], { WA_BRIDGE_CHECKPOINT_KEY_FILE: path.join(dir, 'missing.pem') });
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/^wa-bridge: WA_BRIDGE_CHECKPOINT_KEY_FILE: checkpoint key .*missing\.pem cannot be read/);
    const missing = await runWaBridge(dataDir, ['backup', 'verify', path.join(dir, 'gone.wabk')]);
    expect([missing.code, missing.stderr]).toEqual([2, `wa-bridge: ${path.join(dir, 'gone.wabk')}: no such backup file\n`]);
    const folder = await runWaBridge(dataDir, ['backup', 'verify', dir]);
    expect([folder.code, folder.stderr]).toEqual([2, `wa-bridge: ${dir}: not a backup file (a backup is one wa-bridge-backup-*.wabk file)\n`]);
  });

  it('will not write the daily backup to a backup dir that is not there (an unmounted disk)', async () => {
    const dataDir = path.join(dir, 'data');
    expect((await runWaBridge(dataDir, ['import', exportFile, '--client-phone', '+44 7700 900456', '--firm-author', 'Tom Baker'])).code).toBe(0);
    const unmounted = path.join(dir, 'mnt', 'backups');
    const line = `wa-bridge: WA_BRIDGE_BACKUP_DIR: ${unmounted} is not a directory that exists (a backup disk that is not mounted?); create or mount it, on another disk than the data dir\n`;
    const serve = await runWaBridge(dataDir, ['serve'], { PORT: '0', WA_BRIDGE_BACKUP_DIR: unmounted, WA_BRIDGE_SANDBOX: 'off', WA_BRIDGE_SMTP_URL: 'smtp://127.0.0.1:9', WA_BRIDGE_MAILBOX: 'whatsapp@firm.example', WA_BRIDGE_MAIL_DOMAIN: 'wa.firm.example' }, 60_000);
    expect([serve.code, serve.stderr]).toEqual([2, line]);
    const backup = await runWaBridge(dataDir, ['backup'], { WA_BRIDGE_BACKUP_DIR: unmounted });
    expect([backup.code, backup.stderr]).toEqual([2, line]);
    expect(existsSync(unmounted)).toBe(false);
  });

  it('names both when restore is asked for one conversation and the whole backup at once', async () => {
    const result = await runWaBridge(path.join(dir, 'data'), ['restore', '--all', '--conversation', 'abc', '--backup', path.join(dir, 'x.wabk')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('wa-bridge: restore either one conversation (--conversation CHAT_ID) or the whole backup (--all), not both\n');
  });
});
