import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SettingValue } from '../core/config-record.js';
import { ConfigError } from '../core/errors.js';
import { parseRetentionPolicy, type RetentionPolicy } from '../core/retention.js';
import { resolveAuth, type AuthSettings } from './auth.js';
import { resolveMail, type MailSettings } from './mail.js';
import type { MediaStoreLocation } from '../store/blob-store.js';
import type { DatabaseLocation } from '../store/db.js';
import { resolveMediaStore } from './media-store.js';
import { machineTimeZone } from '../core/wall-time.js';
import { rawConfigSchema, settings, type RawConfig } from './schema.js';
import { parseTemplateEntry } from './templates.js';
import type { ApprovedTemplate } from '../core/templates.js';

export type { MailSettings } from './mail.js';

export interface CloudApiSettings {
  appSecret: string;
  verifyToken: string;
  accessToken: string;
  baseUrl: string;
  version: string;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseLocation;
  tenant: string;
  mailDomain: string;
  /** The firm's zone for times shown in mirrored mail (WA_BRIDGE_TIMEZONE, else the machine's). */
  timeZone: string;
  replySecret?: string;
  /** Absent in the sandbox, which brings its own catcher. */
  mail?: MailSettings;
  /** Absent in the sandbox, which brings its own simulator. */
  cloudApi?: CloudApiSettings;
  sandbox: boolean;
  mediaMaxBytes: number;
  /** Cloud API media: the longest silence of a download (WA_BRIDGE_MEDIA_TIMEOUT_SECONDS). */
  mediaTimeoutMs: number;
  logLevel: RawConfig['logLevel'];
  workerConcurrency: number;
  jobLeaseMs: number;
  /** Email replies: the SMTP intake and/or the IMAP mailbox; absent when neither is configured. */
  replyIntake?: { smtp?: { host: string; port: number }; imap?: { url: string; pollMs: number }; allowedSenders: string[] };
  /** WA_BRIDGE_TEMPLATES: the approved templates, with the labels of their body variables. */
  templates: ApprovedTemplate[];
  /** The unofficial whatsapp-web.js channel, when switched on. */
  whatsappWeb?: { chromiumPath: string; pairPhoneNumber?: string; inlineVideo: boolean };
  /** API sign-in (Entra ID); absent when not configured. */
  auth?: AuthSettings;
  /** Signed checkpoints of the archive's chain heads: the key file (default under the data dir) and how often. */
  checkpoints: { keyFile?: string; intervalMs: number };
  /** Retention periods by matter type, and whether the bridge applies them daily. */
  retention: { policy: RetentionPolicy; daily: boolean };
  /** WA_BRIDGE_MASTER_KEY when set (else the key file under the data dir is used). */
  masterKey?: string;
  /** The daily backup, when a directory is configured. */
  backups?: { dir: string; keep: number };
  /** How late a scheduled archive task may be before it counts as overdue. */
  archiveOverdueMs: number;
  /** Seal new blobs at rest (WA_BRIDGE_BLOB_ENCRYPTION). */
  blobEncryption: boolean;
  /** Read documents' text into the search index (WA_BRIDGE_SEARCH_DOCUMENTS). */
  searchDocuments: boolean;
  /** Where blobs are kept (WA_BRIDGE_MEDIA_STORE): <data dir>/blobs unless configured. */
  mediaStore: MediaStoreLocation;
  /**
   * Every setting's effective value (defaults filled in) by variable name, secrets included: what
   * the bridge compares at start with the configuration last recorded in the audit trail.
   */
  effectiveSettings?: Record<string, SettingValue>;
}

export const SANDBOX_MAIL_DOMAIN = 'wa.sandbox.test';

/**
 * Templates the sandbox offers when WA_BRIDGE_TEMPLATES is not set, so a newcomer sees how a reply
 * goes once the client's 24-hour window has closed: one with parameters, one without. The
 * simulator takes any template; a real number needs its own, approved by Meta.
 */
export const SANDBOX_TEMPLATES = ['appointment_reminder:en_GB:Client name|Date and time', 'documents_ready:en_GB'];

/**
 * Reads settings from an optional JSON config file (WA_BRIDGE_CONFIG or `configFile`) and the
 * environment (which wins), validates them, and throws one ConfigError whose message has one line
 * per problem, each starting with the variable's name.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, configFile = env.WA_BRIDGE_CONFIG): Config {
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  if (configFile) Object.assign(input, readConfigFile(configFile, problems));
  for (const setting of settings) {
    const value = env[setting.env];
    if (value !== undefined && value !== '') input[setting.key] = value;
  }
  problems.push(...unknownVariables(env));

  const parsed = rawConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0];
      const setting = settings.find((s) => s.key === key);
      problems.push(`${setting?.env ?? String(key)}: ${issue.message}`);
    }
    throw new ConfigError(problems.join('\n'));
  }
  const config = resolve(parsed.data, problems);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return { ...config, effectiveSettings: effectiveSettings(parsed.data) };
}

/**
 * WA_BRIDGE_ variables read outside the settings: the config file's name, and the ones the build,
 * the tests and the benchmarks use (prefixes). Anything else with the prefix is most likely a
 * misspelt setting, which would otherwise be ignored without a word (a backup that never runs).
 */
const otherVariables = new Set(['WA_BRIDGE_CONFIG', 'WA_BRIDGE_CHROMIUM', 'WA_BRIDGE_CPU_PROFILE_DIR']);
const otherPrefixes = ['WA_BRIDGE_UI_', 'WA_BRIDGE_TEST_', 'WA_BRIDGE_BENCH_', 'WA_BRIDGE_FUZZ_'];

function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = settings.map((s) => s.env);
  return Object.keys(env)
    .filter((name) => name.startsWith('WA_BRIDGE_') && !known.includes(name) && !otherVariables.has(name) && !otherPrefixes.some((prefix) => name.startsWith(prefix)))
    .sort()
    .map((name) => {
      const near = closest(name, known);
      return `${name}: not a wa-bridge setting${near ? ` (did you mean ${near}?)` : ''}; \`wa-bridge config docs\` lists them all`;
    });
}

/** The known name within three edits of `name`, if one is. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance <= 3 && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The variables whose values are secrets: never shown, logged or recorded, only fingerprinted. */
export const secretSettings: ReadonlySet<string> = new Set(settings.filter((s) => s.secret).map((s) => s.env));

function effectiveSettings(raw: RawConfig): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = {};
  for (const setting of settings) {
    const value: unknown = raw[setting.key];
    out[setting.env] = value === undefined ? null : Array.isArray(value) ? value.join(',') : (value as SettingValue);
  }
  return out;
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  try {
    const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      problems.push(`WA_BRIDGE_CONFIG: ${file} must hold a JSON object of settings`);
      return {};
    }
    const known = new Set<string>(settings.map((s) => s.key));
    const byEnv = new Map(settings.map((s) => [s.env, s.key] as const));
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data)) {
      const name = byEnv.get(key) ?? (known.has(key) ? key : undefined);
      if (name === undefined) problems.push(`WA_BRIDGE_CONFIG: unknown setting "${key}" in ${file}`);
      else out[name] = value;
    }
    return out;
  } catch (error) {
    problems.push(`WA_BRIDGE_CONFIG: cannot read ${file}: ${(error as Error).message}`);
    return {};
  }
}

function resolve(raw: RawConfig, problems: string[]): Config {
  const dataDir = path.resolve(raw.dataDir);
  const database = resolveDatabase(raw.databaseUrl, dataDir, raw.databasePreparedStatements === 'on', problems);
  const hasMail = raw.smtpUrl !== undefined || raw.mailbox !== undefined || raw.mailTransport === 'graph';
  const hasWeb = raw.whatsappWeb === 'on';
  const hasCloud = raw.cloudApiAppSecret !== undefined || raw.cloudApiVerifyToken !== undefined || raw.cloudApiAccessToken !== undefined;
  const sandbox = raw.sandbox === 'on' || (raw.sandbox === 'auto' && !hasMail && !hasCloud && !hasWeb);
  const mailDomain = raw.mailDomain ?? (sandbox ? SANDBOX_MAIL_DOMAIN : undefined);

  let mail: MailSettings | undefined;
  let cloudApi: CloudApiSettings | undefined;
  if (!sandbox) {
    mail = resolveMail(raw, mailDomain, problems);
    if (hasCloud) {
      if (raw.cloudApiAppSecret === undefined) problems.push('WA_BRIDGE_CLOUD_API_APP_SECRET: required with the Cloud API (webhook signatures cannot be checked without it)');
      if (raw.cloudApiVerifyToken === undefined) problems.push('WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: required with the Cloud API (the webhook handshake needs it)');
      if (raw.cloudApiAccessToken === undefined) problems.push('WA_BRIDGE_CLOUD_API_ACCESS_TOKEN: required with the Cloud API (media downloads need it)');
      if (raw.cloudApiAppSecret && raw.cloudApiVerifyToken && raw.cloudApiAccessToken) {
        cloudApi = {
          appSecret: raw.cloudApiAppSecret,
          verifyToken: raw.cloudApiVerifyToken,
          accessToken: raw.cloudApiAccessToken,
          baseUrl: raw.cloudApiBaseUrl.replace(/\/+$/, ''),
          version: raw.cloudApiVersion,
        };
      }
    }
  }
  let replyIntake: Config['replyIntake'];
  if (raw.replySmtpPort !== undefined || raw.replyImapUrl !== undefined) {
    if (!raw.allowedSenders || raw.allowedSenders.length === 0) {
      problems.push('WA_BRIDGE_ALLOWED_SENDERS: required with an email reply route (whose email replies may reach clients, e.g. @firm.example)');
    } else {
      replyIntake = {
        ...(raw.replySmtpPort !== undefined ? { smtp: { host: raw.replySmtpHost, port: raw.replySmtpPort } } : {}),
        ...(raw.replyImapUrl !== undefined ? { imap: { url: raw.replyImapUrl, pollMs: raw.replyImapPollMs } } : {}),
        allowedSenders: raw.allowedSenders,
      };
    }
  }
  const auth = resolveAuth(raw, problems);
  return {
    port: raw.port,
    ...auth,
    host: raw.host ?? (sandbox ? '127.0.0.1' : '0.0.0.0'),
    dataDir,
    database,
    tenant: raw.tenant,
    mailDomain: mailDomain ?? SANDBOX_MAIL_DOMAIN,
    timeZone: raw.timeZone ?? machineTimeZone(),
    ...(raw.replySecret ? { replySecret: raw.replySecret } : {}),
    ...(mail ? { mail } : {}),
    ...(cloudApi ? { cloudApi } : {}),
    sandbox,
    mediaMaxBytes: raw.mediaMaxBytes,
    mediaTimeoutMs: raw.mediaTimeoutSeconds * 1000,
    logLevel: raw.logLevel,
    workerConcurrency: raw.workerConcurrency,
    jobLeaseMs: raw.jobLeaseSeconds * 1000,
    ...(replyIntake ? { replyIntake } : {}),
    ...(hasWeb && !sandbox
      ? {
          whatsappWeb: {
            chromiumPath: raw.chromiumPath,
            ...(raw.whatsappWebPairPhone ? { pairPhoneNumber: raw.whatsappWebPairPhone.replace(/^\+/, '') } : {}),
            inlineVideo: raw.whatsappWebInlineVideo === 'on',
          },
        }
      : {}),
    checkpoints: { ...(raw.checkpointKeyFile ? { keyFile: path.resolve(raw.checkpointKeyFile) } : {}), intervalMs: Math.round(raw.checkpointIntervalHours * 3_600_000) },
    retention: { policy: retentionPolicy(raw.retentionYears, problems), daily: raw.retentionSchedule === 'daily' },
    ...(raw.masterKey ? { masterKey: raw.masterKey } : {}),
    ...(raw.backupDir ? { backups: { dir: path.resolve(raw.backupDir), keep: raw.backupKeep } } : {}),
    archiveOverdueMs: raw.archiveOverdueHours * 3_600_000,
    blobEncryption: raw.blobEncryption === 'on',
    searchDocuments: raw.searchDocuments === 'on',
    mediaStore: resolveMediaStore(raw.mediaStore, dataDir, problems),
    // Every entry has passed parseTemplateEntry in the schema.
    templates: (raw.templates ?? (sandbox ? SANDBOX_TEMPLATES : [])).flatMap((entry) => {
      const template = parseTemplateEntry(entry);
      return 'error' in template ? [] : [template];
    }),
  };
}

function resolveDatabase(databaseUrl: string | undefined, dataDir: string, preparedStatements: boolean, problems: string[]): Config['database'] {
  const fallback = { kind: 'sqlite' as const, file: path.join(dataDir, 'wa-bridge.sqlite') };
  if (databaseUrl === undefined) return fallback;
  const match = /^sqlite:(?:\/\/)?(.+)$/.exec(databaseUrl);
  if (match?.[1]) return { kind: 'sqlite', file: path.resolve(match[1]) };
  if (/^postgres(ql)?:\/\/[^/]/.test(databaseUrl)) {
    try {
      const url = new URL(databaseUrl);
      if (url.pathname.length > 1) return { kind: 'postgres', url: databaseUrl, preparedStatements };
      problems.push('WA_BRIDGE_DATABASE_URL: name the database, e.g. postgres://wa_bridge@db.firm.example/wa_bridge');
    } catch {
      problems.push('WA_BRIDGE_DATABASE_URL: not a valid postgres:// URL');
    }
    return fallback;
  }
  problems.push(`WA_BRIDGE_DATABASE_URL: expected sqlite:<file> or postgres://user@host/database, got ${JSON.stringify(databaseUrl.replace(/\/\/[^@/]*@/, '//***@'))}`);
  return fallback;
}

function retentionPolicy(text: string, problems: string[]): RetentionPolicy {
  const parsed = parseRetentionPolicy(text);
  if ('error' in parsed) {
    problems.push(`WA_BRIDGE_RETENTION_YEARS: ${parsed.error}`);
    return { defaultYears: 6, byMatterType: {} };
  }
  return parsed.policy;
}
