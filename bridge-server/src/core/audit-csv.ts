import type { AuditEntry } from './audit.js';

/** The shape of AuditEntryItem in @wa-bridge/shared/api/audit, which the API's schema checks. */
export interface AuditEntryView {
  id: number;
  at: string;
  actor: string;
  actorName: string | null;
  roles: string[];
  action: string;
  target: string | null;
  source: string;
  details: Record<string, string | number | boolean | null>;
  prevSha256: string;
  entrySha256: string;
}

/**
 * An audit entry as people and tools read it, with its time in ISO 8601 and both chain links:
 * GET /api/audit and `wa-bridge audit --format json` give exactly this.
 */
export function auditEntryView(entry: AuditEntry): AuditEntryView {
  return {
    id: entry.id,
    at: new Date(entry.at).toISOString(),
    actor: entry.actor,
    actorName: entry.actorName ?? null,
    roles: [...(entry.roles ?? [])],
    action: entry.action,
    target: entry.target ?? null,
    source: entry.source,
    details: entry.details ?? {},
    prevSha256: entry.prevSha256,
    entrySha256: entry.entrySha256,
  };
}

/** The audit trail as CSV: one header line, then one line per entry; `wa-bridge audit` and GET /api/audit?format=csv. */
export const auditCsvColumns = ['id', 'at', 'actor', 'actorName', 'roles', 'action', 'target', 'source', 'details', 'prevSha256', 'entrySha256'] as const;

export const auditCsvHeader = (): string => auditCsvColumns.join(',');

export function auditCsvRow(entry: AuditEntry): string {
  const values = [entry.id, new Date(entry.at).toISOString(), entry.actor, entry.actorName ?? '', (entry.roles ?? []).join(' '), entry.action, entry.target ?? '', entry.source, JSON.stringify(entry.details ?? {}), entry.prevSha256, entry.entrySha256];
  return values.map((value) => csvField(String(value))).join(',');
}

/** RFC 4180 quoting; a leading = + - @ is prefixed with ' so spreadsheets never run it as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
