import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { backupPattern } from '../../bridge-server/src/archive/backup.js';
import { databaseEnvFor, openTestDatabase, testEngine } from '../support/test-database.js';

/**
 * Three bridge instances start at once on one PostgreSQL database, each with the daily backup,
 * the daily retention run and the signed checkpoints due at start. Through pg-boss each task runs
 * once among them, not once per instance.
 */
describe('the archive tasks of several instances on one PostgreSQL database', () => {
  let catcher: MailCatcher;
  let store: OpenedDatabase;
  let storeDir: string;
  let backupDir: string;
  let keyDir: string;
  const worlds: BridgeWorld[] = [];

  beforeAll(async () => {
    expect(testEngine).toBe('postgres');
    catcher = await startMailCatcher({});
    storeDir = await mkdtemp(path.join(tmpdir(), 'wab-tasks-store-'));
    backupDir = await mkdtemp(path.join(tmpdir(), 'wab-tasks-backups-'));
    keyDir = await mkdtemp(path.join(tmpdir(), 'wab-tasks-keys-'));
    store = await openTestDatabase(storeDir);
    const checkpointKey = path.join(keyDir, 'checkpoint.pem');
    await writeFile(checkpointKey, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    // What instances on one store share: the database, the keys, and the backup directory.
    const shared = {
      ...(await databaseEnvFor(storeDir)),
      WA_BRIDGE_MASTER_KEY: randomBytes(32).toString('base64'),
      WA_BRIDGE_CHECKPOINT_KEY_FILE: checkpointKey,
      WA_BRIDGE_BACKUP_DIR: backupDir,
      WA_BRIDGE_RETENTION_SCHEDULE: 'daily',
    };
    const started = await Promise.all([0, 1, 2].map(() => startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', env: shared })));
    worlds.push(...started);
  });

  afterAll(async () => {
    for (const world of worlds) await world.stop();
    await store?.close();
    await catcher?.stop();
    for (const dir of [storeDir, backupDir, keyDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes one backup, one retention run and one scheduled checkpoint among them', async () => {
    const backups = async () => (await readdir(backupDir)).filter((name) => backupPattern.test(name));
    const retentionRuns = async () => (await sql<{ source: string }>`SELECT source FROM audit_entries WHERE action = 'retention.delete'`.execute(store.db)).rows;
    const scheduledCheckpoints = async () => (await sql<{ id: number }>`SELECT id FROM checkpoints WHERE reason = 'scheduled'`.execute(store.db)).rows;
    const describeAll = async () => JSON.stringify({ backups: await backups(), retention: await retentionRuns(), checkpoints: await scheduledCheckpoints() });
    await waitFor(async () => (await backups()).length >= 1 && (await retentionRuns()).length >= 1 && (await scheduledCheckpoints()).length >= 1, 30_000, describeAll);
    // Long enough for a second instance's job to have run, had there been one: its queue polls every few seconds.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    expect(await backups()).toHaveLength(1);
    expect(await retentionRuns()).toHaveLength(1);
    expect(await scheduledCheckpoints()).toHaveLength(1);
    // pg-boss keeps its tables in a schema of its own in the bridge's database.
    const schemas = await sql<{ schema_name: string }>`SELECT schema_name FROM information_schema.schemata`.execute(store.db);
    expect(schemas.rows.map((row) => row.schema_name)).toContain('wa_bridge_jobs');
  });
});
