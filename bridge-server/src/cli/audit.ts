import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { auditActions, type AuditEntry, type AuditTrail } from '../core/audit.js';
import { auditCsvHeader, auditCsvRow, auditEntryView } from '../core/audit-csv.js';
import { BadInputError } from '../core/errors.js';
import { queryAudit, SqlAuditTrail, type AuditFilter } from '../store/audit.js';
import { openExistingDatabase } from '../store/db.js';
import { parseIsoTime } from './dates.js';
import { runCommand } from './run.js';

/** Who a command runs as, for the audit trail: the operating-system user on this host. */
export function cliActor(): { actor: string; source: string } {
  return { actor: `cli:${userInfo().username}`, source: `cli@${hostname()}` };
}

/** Records a command's action; the trail is the one the bridge writes to. */
export function recordCli(trail: AuditTrail, entry: Omit<Parameters<AuditTrail['record']>[0], 'actor' | 'source'>): Promise<AuditEntry> {
  return trail.record({ ...cliActor(), ...entry });
}

/**
 * `wa-bridge audit`: the audit trail, filtered, as CSV or JSON lines, for compliance officers on
 * the bridge's host (GET /api/audit offers the same, CSV in the same columns, to the
 * ComplianceOfficer role). Reading the trail is itself recorded.
 */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('Print the audit trail (who read, searched, replied, linked, exported, restored or deleted what, when, from where) as CSV or JSON lines.')
    .option('--from <date>', 'entries at or after this time (ISO 8601)')
    .option('--to <date>', 'entries before this time (ISO 8601)')
    .option('--actor <id>', 'only this actor (user id, UPN, or cli:<user>)')
    .option('--action <action>', `only this action: ${auditActions.join(', ')}`)
    .option('--target <target>', 'only this target, e.g. conversation:<chat id> or matter:<ref>')
    .option('--format <format>', 'csv or json', 'csv')
    .action((options: { from?: string; to?: string; actor?: string; action?: string; target?: string; format: string }) =>
      runCommand(async () => {
        if (options.format !== 'csv' && options.format !== 'json') throw new BadInputError('bad_format', `--format: expected csv or json, got ${JSON.stringify(options.format)}`);
        if (options.action !== undefined && !(auditActions as readonly string[]).includes(options.action)) throw new BadInputError('bad_action', `--action: expected one of ${auditActions.join(', ')}`);
        const filter: AuditFilter = {
          ...(options.from !== undefined ? { from: parseIsoTime('--from', options.from) } : {}),
          ...(options.to !== undefined ? { to: parseIsoTime('--to', options.to) } : {}),
          ...(options.actor !== undefined ? { actor: options.actor } : {}),
          ...(options.action !== undefined ? { action: options.action } : {}),
          ...(options.target !== undefined ? { target: options.target } : {}),
        };
        const config = loadConfig();
        const opened = await openExistingDatabase(config.database);
        try {
          if (options.format === 'csv') process.stdout.write(`${auditCsvHeader()}\n`);
          let afterId = 0;
          for (;;) {
            const page = await queryAudit(opened.db, { ...filter, afterId, limit: 5000 });
            for (const entry of page) process.stdout.write(options.format === 'json' ? `${JSON.stringify(auditEntryView(entry))}\n` : `${auditCsvRow(entry)}\n`);
            if (page.length < 5000) break;
            afterId = page.at(-1)!.id;
          }
          await recordCli(new SqlAuditTrail(opened.db), { action: 'audit.read', details: { filter: JSON.stringify(filter), format: options.format } });
        } finally {
          await opened.close();
        }
      }),
    );
}
