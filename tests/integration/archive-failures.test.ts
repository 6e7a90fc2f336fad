import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../bridge-server/src/ops/logger.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.js';
import { users } from '../support/api-world.js';

// A scheduled archive task that fails is counted in /metrics and logged, and what it was to make
// is not half made. The backup is the task made to fail: a photo's blob is listed in the store
// but its file is gone, which a backup must refuse rather than leave out.

let catcher: MailCatcher;
let issuer: TokenIssuer;
let dataDir: string;
let backupDir: string;
let world: BridgeWorld | undefined;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  catcher = await startMailCatcher({});
  issuer = await startTokenIssuer();
  dataDir = await mkdtemp(path.join(tmpdir(), 'wab-archive-failures-'));
  backupDir = await mkdtemp(path.join(tmpdir(), 'wab-archive-failures-backups-'));

  // A first bridge, without backups, takes in a photo.
  const first = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitors@firm.test', dataDir, env: issuer.env });
  try {
    const media = first.simulator.addMedia(randomBytes(5000), 'image/jpeg');
    const envelope = first.simulator.inboundMessage({ from: '447700900961', name: 'Pat Photo', type: 'image', media, timestamp: new Date() });
    expect((await first.simulator.postWebhook(envelope)).status).toBe(200);
    await waitFor(() => catcher.mails().length >= 2, 10_000, () => `${catcher.mails().length} mails`);
    const [attachment] = await first.bridge.store.db.selectFrom('attachments').select(['sha256']).execute();
    expect(attachment?.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The photo's file goes missing while no bridge runs.
    const files = (await readdir(dataDir, { recursive: true })).filter((file) => path.basename(file) === attachment!.sha256);
    expect(files).toHaveLength(1);
    await first.stop();
    await rm(path.join(dataDir, files[0]!));
  } catch (error) {
    await first.stop();
    throw error;
  }

  // The next start schedules backups, and the first runs at once.
  const logger = createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitors@firm.test', dataDir, env: { ...issuer.env, WA_BRIDGE_BACKUP_DIR: backupDir }, logger });
});

afterAll(async () => {
  await world?.stop();
  await catcher?.stop();
  await issuer?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(backupDir, { recursive: true, force: true });
});

const metrics = async () => (await fetch(`${world!.bridge.url}/metrics`)).text();

describe('a scheduled archive task that fails', () => {
  it('is counted for its task in /metrics and logged with the reason', async () => {
    await waitFor(async () => (await metrics()).includes('wa_bridge_archive_task_failures_total{task="backup"} 1'), 15_000, metrics);
    const text = await metrics();
    // The other tasks ran and did not fail.
    expect(text).not.toMatch(/wa_bridge_archive_task_failures_total\{task="(checkpoint|retention)"\} [1-9]/);
    expect(text).toContain('wa_bridge_archive_task_overdue{task="backup"} 0');
    const failure = logLines.find((line) => line.msg === 'backup failed; tried again after a minute, then at doubling gaps of up to an hour');
    expect(failure).toMatchObject({ level: 50, component: 'archive' });
    expect(JSON.stringify(failure?.err)).toContain('blob_vanished');
  });

  it('leaves no backup behind, and says it has not run', async () => {
    await waitFor(async () => (await metrics()).includes('wa_bridge_archive_task_failures_total{task="backup"} 1'), 15_000, metrics);
    expect(await readdir(backupDir)).toEqual([]);
    const status = await (await fetch(`${world!.bridge.url}/api/admin/status`, { headers: { authorization: `Bearer ${await issuer.sign(users.admin)}` } })).json();
    const backup = status.archive.find((task: { task: string }) => task.task === 'backup');
    // Never run, and not yet overdue: the bridge has been up for less than the margin.
    expect(backup).toMatchObject({ lastRunAt: null, overdue: false });
    const audit = await (await fetch(`${world!.bridge.url}/api/audit?action=backup`, { headers: { authorization: `Bearer ${await issuer.sign(users.compliance)}` } })).json();
    expect(audit.items).toEqual([]);
  });
});
