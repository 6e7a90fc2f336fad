import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../bridge-server/src/core/audit.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { recordConfiguration } from '../../bridge-server/src/archive/config-record.js';
import { queryAudit, SqlAuditTrail } from '../../bridge-server/src/store/audit.js';
import { startBridgeWorld, testSecrets } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';

/**
 * Configuration changes in the audit trail: each start of the bridge compares its effective
 * settings with those last recorded, and records the first configuration and every change.
 */
describe('configuration changes in the audit trail', () => {
  let catcher: MailCatcher;
  let dataDir: string;

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-config-audit-'));
  });

  afterAll(async () => {
    await catcher?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts the bridge on the same store with these settings, stops it, and answers the config.change entries. */
  async function startWith(env: Record<string, string>): Promise<AuditEntry[]> {
    // The Cloud API address is fixed here: the simulator's changes with every start.
    const world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitors@firm.test', dataDir, env: { WA_BRIDGE_CLOUD_API_BASE_URL: 'http://127.0.0.1:9', ...env } });
    try {
      return await queryAudit(world.bridge.store.db, { action: 'config.change' });
    } finally {
      await world.stop();
    }
  }

  it('records the first configuration, nothing when a start changes nothing, and one entry naming each changed setting', async () => {
    const [initial, ...others] = await startWith({});
    expect(others).toEqual([]);
    expect(initial).toMatchObject({ actor: 'system', target: 'configuration', details: { initial: true } });
    const record = JSON.parse(String(initial!.details!.record)) as { settings: Record<string, unknown> };
    expect(record.settings.WA_BRIDGE_WORKER_CONCURRENCY).toEqual({ value: 32 });
    expect(record.settings.WA_BRIDGE_MAILBOX).toEqual({ value: 'solicitors@firm.test' });
    // A secret is there only as a fingerprint; one never set as null.
    expect(record.settings.WA_BRIDGE_CLOUD_API_APP_SECRET).toEqual({ fingerprint: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) });
    expect(record.settings.WA_BRIDGE_GRAPH_CLIENT_SECRET).toEqual({ fingerprint: null });
    for (const secret of Object.values(testSecrets)) expect(JSON.stringify(initial)).not.toContain(secret);

    expect(await startWith({})).toHaveLength(1);

    const changedEnv = { WA_BRIDGE_WORKER_CONCURRENCY: '4', WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: 'a-new-verify-token-0456' };
    const afterChange = await startWith(changedEnv);
    expect(afterChange).toHaveLength(2);
    expect(afterChange[1]!.details).toEqual({
      changed: 'WA_BRIDGE_CLOUD_API_VERIFY_TOKEN, WA_BRIDGE_WORKER_CONCURRENCY',
      'WA_BRIDGE_WORKER_CONCURRENCY.old': 32,
      'WA_BRIDGE_WORKER_CONCURRENCY.new': 4,
      WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: 'changed',
      record: expect.any(String),
    });
    expect(JSON.stringify(afterChange)).not.toContain('a-new-verify-token-0456');
    expect(JSON.stringify(afterChange)).not.toContain(testSecrets.verifyToken);

    // The same settings again: compared with the change just recorded, so nothing new.
    expect(await startWith(changedEnv)).toHaveLength(2);

    // Another instance on the same database, with a port of its own, keeps its own record: its
    // starts do not count as changes of this one's, nor this one's of its.
    const world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitors@firm.test', dataDir, env: { WA_BRIDGE_CLOUD_API_BASE_URL: 'http://127.0.0.1:9', ...changedEnv } });
    try {
      const db = world.bridge.store.db;
      const effective = { ...JSON.parse(String(afterChange[1]!.details!.record)).settings, PORT: 3999 };
      const values = Object.fromEntries(Object.entries(effective).map(([name, kept]) => [name, (kept as { value?: unknown }).value ?? null])) as Record<string, string | number | boolean | null>;
      const other = await recordConfiguration(db, new SqlAuditTrail(db), { ...values, PORT: 3999 }, new Set(), 'bridge@other-host');
      expect(other?.details).toMatchObject({ initial: true });
      expect(await recordConfiguration(db, new SqlAuditTrail(db), { ...values, PORT: 4000 }, new Set(), 'bridge@other-host')).toMatchObject({ details: { changed: 'PORT', 'PORT.old': 3999, 'PORT.new': 4000 } });
    } finally {
      await world.stop();
    }
    expect(await startWith(changedEnv)).toHaveLength(4);
    expect((await startWith(changedEnv)).filter((entry) => entry.source !== 'bridge@other-host')).toHaveLength(2);

    // As a compliance officer reads it on the host.
    const printed = await runWaBridge(dataDir, ['audit', '--action', 'config.change', '--format', 'json']);
    expect(printed.code, printed.stderr).toBe(0);
    const lines = printed.stdout.trim().split('\n').map((line) => JSON.parse(line) as AuditEntry);
    expect(lines.map((entry) => entry.details?.changed ?? 'initial')).toEqual(['initial', 'WA_BRIDGE_CLOUD_API_VERIFY_TOKEN, WA_BRIDGE_WORKER_CONCURRENCY', 'initial', 'PORT']);
  });
});
