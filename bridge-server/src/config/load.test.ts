import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './load.js';

const live = {
  WA_BRIDGE_SMTP_URL: 'smtp://127.0.0.1:2525',
  WA_BRIDGE_MAILBOX: 'whatsapp@firm.example',
  WA_BRIDGE_MAIL_DOMAIN: 'wa.firm.example',
  WA_BRIDGE_CLOUD_API_APP_SECRET: 'app-secret-123',
  WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: 'verify-token-123',
  WA_BRIDGE_CLOUD_API_ACCESS_TOKEN: 'access-token-123',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, undefined);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs the sandbox when nothing is configured, with the documented defaults', () => {
    const config = loadConfig({}, undefined);
    expect(config.sandbox).toBe(true);
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({ kind: 'sqlite', file: expect.stringMatching(/data\/wa-bridge\.sqlite$/) });
    expect(config.mail).toBeUndefined();
    // Templates to try a reply after the 24-hour window with, one of them with parameters.
    expect(config.templates).toEqual([
      { name: 'appointment_reminder', language: 'en_GB', parameterLabels: ['Client name', 'Date and time'] },
      { name: 'documents_ready', language: 'en_GB', parameterLabels: [] },
    ]);
    expect(loadConfig({ WA_BRIDGE_TEMPLATES: 'case_update:en_GB' }, undefined).templates).toEqual([{ name: 'case_update', language: 'en_GB', parameterLabels: [] }]);
    expect(loadConfig(live, undefined).templates).toEqual([]);
  });

  it('listens on loopback in the sandbox and on every interface when live, unless WA_BRIDGE_HOST says otherwise', () => {
    expect(loadConfig({}, undefined).host).toBe('127.0.0.1');
    expect(loadConfig(live, undefined).host).toBe('0.0.0.0');
    expect(loadConfig({ WA_BRIDGE_HOST: '0.0.0.0' }, undefined).host).toBe('0.0.0.0');
    expect(loadConfig({ ...live, WA_BRIDGE_HOST: '10.0.0.5' }, undefined).host).toBe('10.0.0.5');
  });

  it('names a WA_BRIDGE_ variable that is no setting, with the setting it is closest to', () => {
    expect(problems({ WA_BRIDGE_SMTP_UR: 'smtp://x:25', WA_BRIDGE_BACKUPDIR: '/backups', WA_BRIDGE_COLOUR: 'blue' })).toEqual([
      'WA_BRIDGE_BACKUPDIR: not a wa-bridge setting (did you mean WA_BRIDGE_BACKUP_DIR?); `wa-bridge config docs` lists them all',
      'WA_BRIDGE_COLOUR: not a wa-bridge setting; `wa-bridge config docs` lists them all',
      'WA_BRIDGE_SMTP_UR: not a wa-bridge setting (did you mean WA_BRIDGE_SMTP_URL?); `wa-bridge config docs` lists them all',
    ]);
    // Read by the build, the tests and the benchmarks, not by the bridge.
    expect(loadConfig({ WA_BRIDGE_CONFIG: '', WA_BRIDGE_UI_CLIENT_ID: 'x', WA_BRIDGE_TEST_LOG: '1', WA_BRIDGE_BENCH_MESSAGES: '10', WA_BRIDGE_CHROMIUM: '/usr/bin/chromium' }, undefined).sandbox).toBe(true);
  });

  it('says when a URL is refused for its port, not its scheme', () => {
    expect(problems({ ...live, WA_BRIDGE_SMTP_URL: 'smtp://user:secret@mail.firm.example:99999' })).toEqual([
      'WA_BRIDGE_SMTP_URL: expected a port from 1 to 65535 in the smtp:// or smtps:// URL (e.g. smtp://127.0.0.1:25), got port 99999',
    ]);
  });

  it("shows mail times in WA_BRIDGE_TIMEZONE, else the machine's zone, and refuses a zone Intl does not know", () => {
    expect(loadConfig({ ...live, WA_BRIDGE_TIMEZONE: 'Europe/London' }, undefined).timeZone).toBe('Europe/London');
    expect(loadConfig(live, undefined).timeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(problems({ ...live, WA_BRIDGE_TIMEZONE: 'London' })).toEqual(['WA_BRIDGE_TIMEZONE: expected a time zone name such as Europe/London, got "London"']);
  });

  it('accepts a complete live configuration', () => {
    const config = loadConfig({ ...live, PORT: '8080' }, undefined);
    expect(config.sandbox).toBe(false);
    expect(config.port).toBe(8080);
    expect(config.mail).toEqual({ smtpUrl: live.WA_BRIDGE_SMTP_URL, maxConnections: 8, mailbox: live.WA_BRIDGE_MAILBOX, envelopeFrom: 'bridge@wa.firm.example' });
    expect(config.cloudApi?.baseUrl).toBe('https://graph.facebook.com');
  });

  it('names every wrong variable on its own line', () => {
    const lines = problems({ ...live, PORT: 'eighty', WA_BRIDGE_SMTP_URL: 'localhost:25', WA_BRIDGE_MAILBOX: 'not-an-address' });
    expect(lines).toHaveLength(3);
    expect(lines).toContainEqual(expect.stringMatching(/^PORT: /));
    expect(lines).toContainEqual('WA_BRIDGE_SMTP_URL: expected smtp:// or smtps:// URL (e.g. smtp://127.0.0.1:25), got "localhost:25"');
    expect(lines).toContainEqual(expect.stringMatching(/^WA_BRIDGE_MAILBOX: /));
  });

  it('takes numbers as written and says which are wanted, never reading "0x50", "1.5" or "-1" as some other number', () => {
    expect(loadConfig({ ...live, PORT: '8080', WA_BRIDGE_SMTP_MAX_CONNECTIONS: ' 12 ', WA_BRIDGE_CHECKPOINT_INTERVAL_HOURS: '0.5' }, undefined)).toMatchObject({
      port: 8080,
      mail: { maxConnections: 12 },
    });
    for (const port of ['eighty', '0x50', '1e3', '1.5', '-1', '65536']) {
      expect(problems({ ...live, PORT: port })).toEqual([`PORT: expected a whole number from 0 to 65535, got "${port}"`]);
    }
    expect(problems({ ...live, WA_BRIDGE_MEDIA_MAX_BYTES: 'lots' })).toEqual(['WA_BRIDGE_MEDIA_MAX_BYTES: expected a whole number of at least 1024, got "lots"']);
    expect(problems({ ...live, WA_BRIDGE_CHECKPOINT_INTERVAL_HOURS: '48' })).toEqual(['WA_BRIDGE_CHECKPOINT_INTERVAL_HOURS: expected a number from 0.01 to 24, got "48"']);
    expect(loadConfig(live, undefined).archiveOverdueMs).toBe(2 * 3_600_000);
    expect(loadConfig({ ...live, WA_BRIDGE_ARCHIVE_OVERDUE_HOURS: '6' }, undefined).archiveOverdueMs).toBe(6 * 3_600_000);
    for (const hours of ['0', '73', '1.5']) expect(problems({ ...live, WA_BRIDGE_ARCHIVE_OVERDUE_HOURS: hours })).toEqual([`WA_BRIDGE_ARCHIVE_OVERDUE_HOURS: expected a whole number from 1 to 72, got "${hours}"`]);
    expect(problems({ ...live, WA_BRIDGE_GRAPH_MAX_CONCURRENT: '9' })[0]).toBe('WA_BRIDGE_GRAPH_MAX_CONCURRENT: expected a whole number from 1 to 4 (Outlook runs no more than 4 requests of one app at once), got "9"');
    expect(problems({ ...live, WA_BRIDGE_LOG_LEVEL: 'verbose' })).toEqual(['WA_BRIDGE_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose"']);
  });

  it('reads numbers from a config file as JSON numbers only: true, null or a list is no port', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wab-config-'));
    try {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ PORT: 8443, WA_BRIDGE_SMTP_MAX_CONNECTIONS: '4' }));
      expect(loadConfig(live, file)).toMatchObject({ port: 8443, mail: { maxConnections: 4 } });
      for (const [value, shown] of [[true, 'true'], [null, 'null'], [[], '[]'], [80.5, '80.5']] as const) {
        writeFileSync(file, JSON.stringify({ PORT: value }));
        expect(() => loadConfig(live, file)).toThrow(new ConfigError(`PORT: expected a whole number from 0 to 65535, got ${shown}`));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a list from a config file as a JSON array as well as comma-separated text', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wab-config-'));
    try {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ WA_BRIDGE_REPLY_SMTP_PORT: 2526, WA_BRIDGE_ALLOWED_SENDERS: ['@firm.example', 'tom@firm.example'] }));
      expect(loadConfig(live, file).replyIntake?.allowedSenders).toEqual(['@firm.example', 'tom@firm.example']);
      writeFileSync(file, JSON.stringify({ WA_BRIDGE_REPLY_SMTP_PORT: 2526, WA_BRIDGE_ALLOWED_SENDERS: [1, 2] }));
      expect(() => loadConfig(live, file)).toThrow(new ConfigError('WA_BRIDGE_ALLOWED_SENDERS: expected a comma-separated list (or, in a config file, a JSON array of strings)'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never shows a secret that is too short, only what is wanted', () => {
    expect(problems({ ...live, WA_BRIDGE_CLOUD_API_APP_SECRET: 'hunter2' })).toEqual(['WA_BRIDGE_CLOUD_API_APP_SECRET: expected at least 8 characters']);
  });

  it('asks for the missing half of a partial setup instead of falling back to the sandbox', () => {
    const lines = problems({ WA_BRIDGE_SMTP_URL: 'smtp://mail.firm.example:25' });
    expect(lines).toEqual([
      'WA_BRIDGE_MAILBOX: required outside the sandbox (the firm address that receives mirrored mail)',
      'WA_BRIDGE_MAIL_DOMAIN: required outside the sandbox (e.g. wa.firm.example)',
    ]);
  });

  it('never echoes SMTP credentials in a problem', () => {
    const lines = problems({ ...live, WA_BRIDGE_SMTP_URL: 'http://user:hunter2@mail.firm.example' });
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it('takes a PostgreSQL URL naming a database, and says plainly what is wrong with others', () => {
    expect(loadConfig({ ...live, WA_BRIDGE_DATABASE_URL: 'postgres://wa@db.firm.example/wa_bridge' }, undefined).database).toEqual({
      kind: 'postgres',
      url: 'postgres://wa@db.firm.example/wa_bridge',
      preparedStatements: true,
    });
    // Behind a pooler that cannot keep prepared statements.
    expect(loadConfig({ ...live, WA_BRIDGE_DATABASE_URL: 'postgres://wa@pgbouncer.firm.example/wa_bridge', WA_BRIDGE_DATABASE_PREPARED_STATEMENTS: 'off' }, undefined).database).toEqual({
      kind: 'postgres',
      url: 'postgres://wa@pgbouncer.firm.example/wa_bridge',
      preparedStatements: false,
    });
    expect(problems({ ...live, WA_BRIDGE_DATABASE_PREPARED_STATEMENTS: 'no' })).toEqual(['WA_BRIDGE_DATABASE_PREPARED_STATEMENTS: expected on or off, got "no"']);
    expect(problems({ ...live, WA_BRIDGE_DATABASE_URL: 'postgresql://db.firm.example' })).toEqual(['WA_BRIDGE_DATABASE_URL: name the database, e.g. postgres://wa_bridge@db.firm.example/wa_bridge']);
    const lines = problems({ ...live, WA_BRIDGE_DATABASE_URL: 'mysql://root:hunter2@db/wa' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^WA_BRIDGE_DATABASE_URL: expected sqlite:<file> or postgres:\/\//);
    expect(lines[0]).not.toContain('hunter2');
  });

  it('asks who may reply when an email reply route is configured, and reads the template list', () => {
    expect(problems({ ...live, WA_BRIDGE_REPLY_SMTP_PORT: '2526' })).toEqual([
      'WA_BRIDGE_ALLOWED_SENDERS: required with an email reply route (whose email replies may reach clients, e.g. @firm.example)',
    ]);
    const config = loadConfig({ ...live, WA_BRIDGE_REPLY_SMTP_PORT: '2526', WA_BRIDGE_ALLOWED_SENDERS: '@firm.example, tom@firm.example', WA_BRIDGE_TEMPLATES: 'case_update:en_GB' }, undefined);
    expect(config.replyIntake).toEqual({ smtp: { host: '0.0.0.0', port: 2526 }, allowedSenders: ['@firm.example', 'tom@firm.example'] });
    expect(config.templates).toEqual([{ name: 'case_update', language: 'en_GB', parameterLabels: [] }]);
    expect(problems({ ...live, WA_BRIDGE_TEMPLATES: 'Bad Template' })[0]).toMatch(/^WA_BRIDGE_TEMPLATES: expected name:language pairs/);
  });
});

describe('WA_BRIDGE_TEMPLATES', () => {
  const templates = (value: string | string[]) => {
    if (typeof value === 'string') return loadConfig({ ...live, WA_BRIDGE_TEMPLATES: value }, undefined).templates;
    const dir = mkdtempSync(path.join(tmpdir(), 'wab-templates-'));
    try {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ WA_BRIDGE_TEMPLATES: value }));
      return loadConfig(live, file).templates;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const labels = (count: number) => Array.from({ length: count }, (_, i) => `Field ${i + 1}`);

  it('reads the labels of body parameters, in order, beside templates without any', () => {
    expect(templates('appointment_reminder:en_GB, hearing_reminder:en_GB:Client name|Hearing date, case_update:en_US:Matter reference')).toEqual([
      { name: 'appointment_reminder', language: 'en_GB', parameterLabels: [] },
      { name: 'hearing_reminder', language: 'en_GB', parameterLabels: ['Client name', 'Hearing date'] },
      { name: 'case_update', language: 'en_US', parameterLabels: ['Matter reference'] },
    ]);
    // Spaces around a label are not part of it; a config file may give the list as an array.
    expect(templates(['hearing_reminder:en_GB: Client name | Hearing date '])).toEqual([{ name: 'hearing_reminder', language: 'en_GB', parameterLabels: ['Client name', 'Hearing date'] }]);
  });

  it('takes up to 20 labels of up to 60 characters', () => {
    expect(templates(`long_form:en_GB:${labels(20).join('|')}`)).toEqual([{ name: 'long_form', language: 'en_GB', parameterLabels: labels(20) }]);
    expect(templates(`wide:en_GB:${'x'.repeat(60)}`)[0]?.parameterLabels).toEqual(['x'.repeat(60)]);
  });

  it('refuses 21 labels, an empty or over-long label and a colon in a label, one line each naming the variable', () => {
    expect(problems({ ...live, WA_BRIDGE_TEMPLATES: `long_form:en_GB:${labels(21).join('|')}` })).toEqual([
      'WA_BRIDGE_TEMPLATES: long_form:en_GB names 21 parameters; a template takes at most 20',
    ]);
    expect(problems({ ...live, WA_BRIDGE_TEMPLATES: 'hearing_reminder:en_GB:Client name||Hearing date' })).toEqual([
      'WA_BRIDGE_TEMPLATES: parameter 2 of hearing_reminder:en_GB has no label (labels are separated by |), in "hearing_reminder:en_GB:Client name||Hearing date"',
    ]);
    expect(problems({ ...live, WA_BRIDGE_TEMPLATES: 'hearing_reminder:en_GB:' })).toEqual([
      'WA_BRIDGE_TEMPLATES: parameter 1 of hearing_reminder:en_GB has no label (labels are separated by |), in "hearing_reminder:en_GB:"',
    ]);
    expect(problems({ ...live, WA_BRIDGE_TEMPLATES: `wide:en_GB:${'x'.repeat(61)}` })).toEqual([
      'WA_BRIDGE_TEMPLATES: the label of parameter 1 of wide:en_GB is longer than 60 characters',
    ]);
    expect(problems({ ...live, WA_BRIDGE_TEMPLATES: 'hearing_reminder:en_GB:Hearing: date and time' })).toEqual([
      'WA_BRIDGE_TEMPLATES: a parameter label may not contain ":", in "hearing_reminder:en_GB:Hearing: date and time"',
    ]);
  });

  it('names each bad entry on its own line, and keeps the pairs message for a bad name or language', () => {
    expect(problems({ ...live, WA_BRIDGE_TEMPLATES: 'Hearing Reminder:en_GB:Client name, ok:en_GB, other:e:Date' })).toEqual([
      'WA_BRIDGE_TEMPLATES: expected name:language pairs such as appointment_reminder:en_GB or hearing_reminder:en_GB:Client name|Hearing date, got "Hearing Reminder:en_GB:Client name"',
      'WA_BRIDGE_TEMPLATES: expected name:language pairs such as appointment_reminder:en_GB or hearing_reminder:en_GB:Client name|Hearing date, got "other:e:Date"',
    ]);
  });
});
