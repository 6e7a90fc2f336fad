import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { latestCheckpoint } from '../../bridge-server/src/store/archive.js';
import { waitFor } from '../support/bridge.js';
import { useApiWorld, users } from '../support/api-world.js';

// An email reply route (any free port), and who may use it; scheduled backups into a directory of their own.
const backupDir = mkdtempSync(path.join(tmpdir(), 'wab-admin-backups-'));
const api = useApiWorld({ WA_BRIDGE_REPLY_SMTP_PORT: '0', WA_BRIDGE_REPLY_SMTP_HOST: '127.0.0.1', WA_BRIDGE_ALLOWED_SENDERS: '@firm.test, head.clerk@chambers.test', WA_BRIDGE_BACKUP_DIR: backupDir });
afterAll(() => rmSync(backupDir, { recursive: true, force: true }));

describe('admin view', () => {
  it('is for admins only', async () => {
    for (const user of [users.solicitorA, users.compliance, users.caseHandler]) {
      const answer = await api.as(user)('GET', '/api/admin/status');
      expect(answer.status).toBe(403);
      expect(answer.body.code).toBe('admin_only');
    }
  });

  it('shows a parked media download as needing attention, and retrying it delivers the mail', async () => {
    const { simulator, bridge } = api.world;
    const photo = randomBytes(5000);
    const media = simulator.addMedia(photo, 'image/jpeg');
    simulator.failNextMediaDownloads(1, 403);
    const envelope = simulator.inboundMessage({ from: '447700900951', name: 'Pat Photo', type: 'image', media, timestamp: new Date() });
    expect((await simulator.postWebhook(envelope)).status).toBe(200);

    const admin = api.as(users.admin);
    await waitFor(async () => (await admin('GET', '/api/admin/jobs')).body.items.length > 0, 10_000, () => 'nothing parked');
    const [job] = (await admin('GET', '/api/admin/jobs')).body.items;
    expect(job).toMatchObject({ kind: 'media.fetch', state: 'needs_attention' });
    expect(job.lastError).toContain('403');

    const status = await admin('GET', '/api/admin/status');
    expect(status.body).toMatchObject({ sandbox: false, jobs: { needsAttention: 1 }, allowedSenders: ['@firm.test', 'head.clerk@chambers.test'], documentsWaiting: 0 });
    // This file's one webhook so far, and none refused.
    expect(status.body.channels).toEqual([expect.objectContaining({ kind: 'cloud-api', state: 'configured', detail: null, webhooks: { accepted: 1 } })]);

    const mailsBefore = api.catcher.mails().length;
    expect((await admin('POST', `/api/admin/jobs/${job.id}/retry`)).status).toBe(204);
    expect((await admin('POST', `/api/admin/jobs/${job.id}/retry`)).status).toBe(404);
    await waitFor(() => api.catcher.mails().length > mailsBefore, 10_000, () => 'no mail after retry');
    const stored = await bridge.store.db.selectFrom('attachments').select(['sha256']).execute();
    expect(stored.every((a) => a.sha256 !== null)).toBe(true);
    expect((await admin('GET', '/api/admin/jobs')).body.items).toEqual([]);
  });

  it('counts refused webhook deliveries and says so', async () => {
    const { simulator } = api.world;
    const envelope = simulator.inboundMessage({ from: '447700900952', name: 'Sam Sig', type: 'text', body: 'Hello', timestamp: new Date() });
    expect((await simulator.postWebhook(envelope, { signature: 'bad' })).status).toBe(401);
    expect((await simulator.postWebhook(envelope, { signature: 'none' })).status).toBe(401);
    const [cloudApi] = (await api.as(users.admin)('GET', '/api/admin/status')).body.channels;
    expect(cloudApi.webhooks).toEqual({ accepted: 1, rejected_signature: 2 });
    expect(cloudApi.detail).toBe('2 webhook deliveries refused since start (bad signature, bad payload or error); see /metrics.');
  });

  it("shows when each of the archive's scheduled tasks last did its work, and exports it for alerting", async () => {
    const admin = api.as(users.admin);
    const tasks = async () => (await admin('GET', '/api/admin/status')).body.archive as Array<{ task: string; lastRunAt: string | null; everyHours: number; runningSince: string | null; overdue: boolean }>;
    // The bridge checkpoints, backs up and runs retention at start, each when due.
    await waitFor(async () => (await tasks()).every((task) => task.lastRunAt !== null), 30_000, () => 'a scheduled task has not run');
    const archive = await tasks();
    expect(archive.map(({ task, everyHours, runningSince, overdue }) => ({ task, everyHours, runningSince, overdue }))).toEqual([
      { task: 'checkpoint', everyHours: 24, runningSince: null, overdue: false },
      { task: 'backup', everyHours: 24, runningSince: null, overdue: false },
      { task: 'retention', everyHours: 24, runningSince: null, overdue: false },
    ]);
    // Read from what each left behind: the newest checkpoint, the backup file, the run's audit entry.
    expect(Date.parse(archive[0]!.lastRunAt!)).toBe((await latestCheckpoint(api.world.bridge.store.db))!.createdAt);
    expect((await api.as(users.compliance)('GET', '/api/audit?action=backup')).body.items).toEqual([expect.objectContaining({ actor: 'system', target: expect.stringMatching(/^backup:/) })]);

    const metrics = await (await fetch(`${api.world.bridge.url}/metrics`)).text();
    for (const { task, lastRunAt } of archive) {
      expect(metrics).toContain(`wa_bridge_archive_task_overdue{task="${task}"} 0`);
      expect(metrics).toContain(`wa_bridge_archive_task_running{task="${task}"} 0`);
      expect(metrics).toContain(`wa_bridge_archive_last_run_timestamp_seconds{task="${task}"} ${Date.parse(lastRunAt!) / 1000}`);
    }

    // A backup another process is making into the same directory (the CLI, say) shows as running
    // from its marker there, for as long as the marker's heartbeat is fresh.
    const marker = path.join(backupDir, 'wa-bridge-backup-20261130T030000000Z.wabk.running');
    writeFileSync(marker, '{}\n');
    try {
      const backup = (await tasks()).find((task) => task.task === 'backup')!;
      expect(backup).toMatchObject({ runningSince: '2026-11-30T03:00:00.000Z', overdue: false, lastRunAt: archive[1]!.lastRunAt });
      expect(await (await fetch(`${api.world.bridge.url}/metrics`)).text()).toContain('wa_bridge_archive_task_running{task="backup"} 1');
      const stale = new Date(Date.now() - 10 * 60_000);
      utimesSync(marker, stale, stale);
      expect((await tasks()).find((task) => task.task === 'backup')!.runningSince).toBeNull();
    } finally {
      rmSync(marker, { force: true });
    }
    // Only an admin reads it here; the others are refused, as for the rest of the view.
    expect((await api.as(users.compliance)('GET', '/api/admin/status')).status).toBe(403);
  });
});
