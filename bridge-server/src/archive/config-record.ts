import { hostname } from 'node:os';
import type { AuditEntry, AuditTrail } from '../core/audit.js';
import { canonicalJson } from '../core/chain.js';
import { configChangeDetails, configChanges, newConfigSalt, parseConfigRecord, recordConfig, type SettingValue } from '../core/config-record.js';
import { lastAuditEntry } from '../store/audit.js';
import type { Executor } from '../store/executor.js';

const target = 'configuration';

/**
 * At each start: compares the effective configuration with the one this host's bridge last
 * recorded in the audit trail and, when a setting differs (or nothing was recorded yet), appends
 * a config.change entry by the bridge naming what changed, old and new values for ordinary
 * settings and only "changed" for secrets. The entry carries the new record, so the next start
 * compares with it. Each host keeps its own record: instances sharing one database with settings
 * of their own (a port, a bind address) do not record each other's as changes at every start.
 */
export async function recordConfiguration(
  db: Executor,
  trail: AuditTrail,
  effective: Readonly<Record<string, SettingValue>>,
  secrets: ReadonlySet<string>,
  source = `bridge@${hostname()}`,
): Promise<AuditEntry | undefined> {
  const last = await lastAuditEntry(db, { action: 'config.change', actor: 'system', target, source });
  const before = parseConfigRecord(last?.details?.record);
  const after = await recordConfig(effective, secrets, before?.salt ?? newConfigSalt());
  const entry = { actor: 'system', source, action: 'config.change' as const, target };
  if (!before) return trail.record({ ...entry, details: { initial: true, settings: Object.keys(after.settings).length, record: canonicalJson(after) } });
  const changes = configChanges(before, after);
  if (changes.length === 0) return undefined;
  return trail.record({ ...entry, details: { ...configChangeDetails(changes), record: canonicalJson(after) } });
}
