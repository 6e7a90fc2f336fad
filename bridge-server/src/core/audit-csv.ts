import type { AuditEntry } from './audit.js';

/** The audit trail as CSV: one header line, then one line per entry; `wa-bridge audit` and GET /api/audit?format=csv. */
export const auditCsvColumns = ['id', 'at', 'actor', 'actorName', 'roles', 'action', 'target', 'source', 'details', 'entrySha256'] as const;

export const auditCsvHeader = (): string => auditCsvColumns.join(',');

export function auditCsvRow(entry: AuditEntry): string {
  const values = [entry.id, new Date(entry.at).toISOString(), entry.actor, entry.actorName ?? '', (entry.roles ?? []).join(' '), entry.action, entry.target ?? '', entry.source, JSON.stringify(entry.details ?? {}), entry.entrySha256];
  return values.map((value) => csvField(String(value))).join(',');
}

/** RFC 4180 quoting; a leading = + - @ is prefixed with ' so spreadsheets never run it as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
