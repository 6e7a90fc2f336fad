import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlAuditTrail } from '../../bridge-server/src/store/audit.js';
import type { AuditEntryItem } from '@wa-bridge/shared/api/audit';
import { auditLink, type AuditAction } from '../../bridge-server/src/core/audit.js';
import { runWaBridge } from '../support/cli.js';
import { copyTestDatabase, openRawStore, openTestDatabase } from '../support/test-database.js';


const waBridge = (dataDir: string, ...args: string[]) => runWaBridge(dataDir, args);

/** The audit trail through the real store and the real `wa-bridge audit` and `verify` commands. */
describe('audit trail', () => {
  let dataDir: string;
  const scratch: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-audit-'));
    const opened = await openTestDatabase(dataDir);
    const trail = new SqlAuditTrail(opened.db);
    // Recorded at once, as concurrent API requests would: the chain must still be one line.
    await Promise.all([
      trail.record({ actor: 'oid-1', actorName: 'Tom Baker', roles: ['Solicitor'], action: 'sign_in', source: '10.0.0.5' }),
      trail.record({ actor: 'oid-1', actorName: 'Tom Baker', roles: ['Solicitor'], action: 'conversation.read', target: 'conversation:abcdefghijklmnopqrstuvwxyz', source: '10.0.0.5' }),
      trail.record({ actor: '=HYPERLINK("x")', roles: ['ComplianceOfficer'], action: 'search', source: '10.0.0.9', details: { query: 'lease, "signed"', results: 3 } }),
    ]);
    await opened.close();
  });

  afterAll(async () => {
    for (const dir of [dataDir, ...scratch]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the trail as JSON lines and CSV, filtered, and records that it was read', async () => {
    const json = await waBridge(dataDir, 'audit', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const entries = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: number; action: string; prevSha256: string; entrySha256: string });
    expect(entries.map((e) => e.action).sort()).toEqual(['conversation.read', 'search', 'sign_in']);
    for (let i = 1; i < entries.length; i += 1) expect(entries[i]!.prevSha256).toBe(entries[i - 1]!.entrySha256);
    // Each line holds all its link covers, the time as ISO 8601 as the API gives it: the link can be recomputed from the output alone.
    for (const line of json.stdout.trim().split('\n')) {
      const entry = JSON.parse(line) as AuditEntryItem;
      expect(entry.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const { details, target, actorName } = entry;
      expect(auditLink(entry.prevSha256, { at: Date.parse(entry.at), actor: entry.actor, ...(actorName === null ? {} : { actorName }), roles: entry.roles, action: entry.action as AuditAction, ...(target === null ? {} : { target }), source: entry.source, details })).toBe(entry.entrySha256);
    }

    const search = await waBridge(dataDir, 'audit', '--action', 'search');
    const lines = search.stdout.trim().split('\n');
    expect(lines[0]).toBe('id,at,actor,actorName,roles,action,target,source,details,prevSha256,entrySha256');
    expect(lines).toHaveLength(2);
    // A formula-looking actor is defused; a detail with commas and quotes stays one field.
    expect(lines[1]).toContain(`"'=HYPERLINK(""x"")"`);
    expect(lines[1]).toContain('"{""query"":""lease, \\""signed\\"""",""results"":3}"');

    const reads = await waBridge(dataDir, 'audit', '--action', 'audit.read', '--format', 'json');
    const recorded = reads.stdout.trim().split('\n').map((line) => JSON.parse(line) as { actor: string; details: { format: string } });
    expect(recorded.length).toBeGreaterThanOrEqual(2);
    expect(recorded[0]).toMatchObject({ actor: `cli:${userInfo().username}`, details: { format: 'json' } });

    const bad = await waBridge(dataDir, 'audit', '--action', 'delete_everything');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--action: expected one of');
  });

  it('verifies the trail, and names an entry changed or cut off after a checkpoint', async () => {
    expect((await waBridge(dataDir, 'checkpoint')).code).toBe(0);
    const ok = await waBridge(dataDir, 'verify');
    expect(ok.stdout).toMatch(/^OK 0 conversation\(s\), 0 event\(s\), 0 blob\(s\), 1 checkpoint\(s\), \d+ audit entries/m);
    expect(ok.code).toBe(0);

    const changed = await mkdtemp(path.join(tmpdir(), 'wab-audit-changed-'));
    scratch.push(changed);
    await cp(dataDir, changed, { recursive: true });
    await copyTestDatabase(dataDir, changed);
    let db = await openRawStore(changed);
    await db.dropTrigger('audit_entries', 'audit_append_only_update');
    await db.run("UPDATE audit_entries SET target = 'conversation:someone-else' WHERE action = 'conversation.read'");
    const id = (await db.get<{ id: number }>("SELECT id FROM audit_entries WHERE action = 'conversation.read'"))!.id;
    await db.close();
    const afterChange = await waBridge(changed, 'verify');
    expect(afterChange.code).toBe(1);
    expect(afterChange.stdout).toContain(`FAIL [audit] audit entry ${id} (conversation.read by oid-1) no longer hashes to its link`);

    const cut = await mkdtemp(path.join(tmpdir(), 'wab-audit-cut-'));
    scratch.push(cut);
    await cp(dataDir, cut, { recursive: true });
    await copyTestDatabase(dataDir, cut);
    db = await openRawStore(cut);
    await db.dropTrigger('audit_entries', 'audit_append_only_delete');
    const last = (await db.get<{ id: number }>('SELECT max(id) AS id FROM audit_entries'))!.id;
    await db.run('DELETE FROM audit_entries WHERE id = ?', last);
    await db.close();
    const afterCut = await waBridge(cut, 'verify');
    expect(afterCut.code).toBe(1);
    expect(afterCut.stdout).toMatch(new RegExp(`FAIL \\[audit\\] checkpoint \\d+ signed audit entry ${last}, which is no longer in the trail`));
  });
});
