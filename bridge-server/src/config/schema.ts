import { z } from 'zod';
import { isKnownTimeZone } from '../core/zoned-time.js';
import { parseTemplateEntry } from './templates.js';

/**
 * Every setting, once: its variable, default and one-line description. The README table and
 * .env.example are generated from this list (`wa-bridge config --markdown` / `--env`).
 */
export interface Setting {
  key: keyof RawConfig;
  env: string;
  doc: string;
  secret?: boolean;
}

const withoutCredentials = (value: string) => value.replace(/\/\/[^@/]*@/, '//***@');

/** Whether `value` parses as a URL with one of `protocols` ('https:', 'smtp:' …). */
export function hasUrlProtocol(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const url = (protocols: string[], example: string) =>
  z.string().superRefine((value, ctx) => {
    if (!hasUrlProtocol(value, protocols)) {
      const expected = protocols.map((p) => `${p}//`).join(' or ');
      // A port out of range makes the whole URL unparsable; say that rather than blame the scheme.
      const port = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)/i.exec(value)?.[1];
      const why = port !== undefined && Number(port) > 65535 ? `a port from 1 to 65535 in the ${expected} URL (e.g. ${example}), got port ${port}` : `${expected} URL (e.g. ${example}), got ${JSON.stringify(withoutCredentials(value))}`;
      ctx.addIssue({ code: 'custom', message: `expected ${why}` });
    }
  });

/** The items of a comma-separated list, trimmed, empty ones left out. */
const commaItems = z
  // A config file may give the list as a JSON array, the environment as comma-separated text.
  .union([z.string(), z.array(z.string()).transform((items) => items.join(','))], { error: 'expected a comma-separated list (or, in a config file, a JSON array of strings)' })
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

/** A comma-separated list whose every item must match `pattern`. */
const commaList = (pattern: RegExp, message: string) => commaItems.pipe(z.array(z.string().regex(pattern, message)));

/** A value as a problem line shows it: quoted, and cut short when long. */
const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
};

const writtenNumber = { whole: /^\d{1,15}$/, decimal: /^\d{1,15}(\.\d{1,15})?$/ };

/**
 * A number from the environment (decimal digits) or a config file (a JSON number), within
 * [min, max]. Anything else is refused with the bounds and the value given, rather than coerced
 * into a number nobody meant: Number() reads "0x50" as 80, true as 1 and null or [] as 0, which
 * for PORT means a port picked at random.
 */
const numberIn = (kind: 'whole' | 'decimal', min: number, max: number, why?: string) =>
  z.unknown().transform((value, ctx) => {
    const text = typeof value === 'string' ? value.trim() : undefined;
    const n = typeof value === 'number' ? value : text !== undefined && writtenNumber[kind].test(text) ? Number(text) : Number.NaN;
    if (Number.isFinite(n) && (kind === 'decimal' || Number.isInteger(n)) && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    ctx.addIssue({ code: 'custom', message: `expected a ${kind === 'whole' ? 'whole number' : 'number'} ${range}${why ? ` (${why})` : ''}, got ${shown(value)}` });
    return z.NEVER;
  });
const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER, why?: string) => numberIn('whole', min, max, why);

/** One of a few words, named in the problem line with the value given. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => `expected ${values.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${shown(issue.input)}` });

/** A secret or token, which a problem line never shows. */
const secretText = (min: number) => z.string({ error: 'expected text' }).min(min, `expected at least ${min} characters`);

const email = z.string().regex(/^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'expected an email address such as whatsapp@firm.example');
const domain = z.string().regex(/^(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$/, 'expected a domain name such as wa.firm.example');

export const rawConfigSchema = z.object({
  port: wholeNumber(0, 65535).default(3000),
  host: z.string().min(1).optional(),
  dataDir: z.string().min(1).default('./data'),
  databaseUrl: z.string().optional(),
  databasePreparedStatements: oneOf(['on', 'off']).default('on'),
  tenant: z.string().regex(/^[a-z0-9-]{1,40}$/, 'expected lower-case letters, digits and dashes (at most 40)').default('default'),
  mailTransport: oneOf(['smtp', 'graph']).default('smtp'),
  smtpUrl: url(['smtp:', 'smtps:'], 'smtp://127.0.0.1:25').optional(),
  smtpMaxConnections: wholeNumber(1, 64).default(8),
  mailbox: email.optional(),
  mailDomain: domain.optional(),
  envelopeFrom: email.optional(),
  timeZone: z.string().refine(isKnownTimeZone, { error: (issue) => `expected a time zone name such as Europe/London, got ${shown(issue.input)}` }).optional(),
  replySecret: z.string().min(32, 'expected at least 32 characters of random secret').optional(),
  cloudApiAppSecret: secretText(8).optional(),
  cloudApiVerifyToken: secretText(8).optional(),
  cloudApiAccessToken: secretText(8).optional(),
  cloudApiBaseUrl: url(['https:', 'http:'], 'https://graph.facebook.com').default('https://graph.facebook.com'),
  cloudApiVersion: z.string().regex(/^v\d+\.\d+$/, 'expected a Graph API version such as v23.0').default('v23.0'),
  mediaMaxBytes: wholeNumber(1024).default(100 * 1024 * 1024),
  mediaTimeoutSeconds: wholeNumber(1, 3600).default(60),
  logLevel: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  sandbox: oneOf(['auto', 'on', 'off']).default('auto'),
  workerConcurrency: wholeNumber(1, 256).default(32),
  jobLeaseSeconds: wholeNumber(3, 3600).default(60),
  whatsappWeb: oneOf(['on', 'off']).default('off'),
  chromiumPath: z.string().min(1).default('/usr/bin/chromium'),
  whatsappWebPairPhone: z.string().regex(/^\+?\d{8,15}$/, 'expected the international number, 8 to 15 digits').optional(),
  whatsappWebInlineVideo: oneOf(['on', 'off']).default('off'),
  replySmtpPort: wholeNumber(0, 65535).optional(),
  replySmtpHost: z.string().min(1).default('0.0.0.0'),
  replyImapUrl: url(['imap:', 'imaps:'], 'imaps://wa-replies%40firm.example:password@outlook.office365.com/INBOX').optional(),
  replyImapPollMs: wholeNumber(1000, 3_600_000).default(15_000),
  allowedSenders: commaList(/^(@?[A-Za-z0-9.-]+\.[A-Za-z]{2,}|[^\s@,]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})$/, 'expected addresses or domains such as @firm.example, tom@firm.example').optional(),
  templates: commaItems
    .pipe(
      z.array(
        z.string().superRefine((entry, ctx) => {
          const parsed = parseTemplateEntry(entry);
          if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
        }),
      ),
    )
    .optional(),
  authTenantId: z.string().regex(/^[A-Za-z0-9.-]{1,100}$/, 'expected the directory (tenant) id, a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47').optional(),
  authAudience: commaList(/^\S{1,300}$/, 'expected the API application id URI or client id, e.g. api://wa.firm.example/5f3c...').optional(),
  authJwksUrl: url(['https:', 'http:'], 'https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys').optional(),
  authIssuer: z.string().min(1).optional(),
  authClientId: z.string().min(1).optional(),
  authClientSecret: z.string().min(1).optional(),
  graphBaseUrl: url(['https:', 'http:'], 'https://graph.microsoft.com').default('https://graph.microsoft.com'),
  graphMailbox: email.optional(),
  graphTenantId: z.string().regex(/^[A-Za-z0-9.-]{1,100}$/, 'expected the directory (tenant) id, a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47').optional(),
  graphClientId: z.string().min(1).optional(),
  graphClientSecret: z.string().min(1).optional(),
  graphMaxConcurrent: wholeNumber(1, 4, 'Outlook runs no more than 4 requests of one app at once').default(4),
  checkpointKeyFile: z.string().min(1).optional(),
  checkpointIntervalHours: numberIn('decimal', 0.01, 24).default(24),
  retentionYears: z.string().default('default:6'),
  retentionSchedule: oneOf(['daily', 'off']).default('daily'),
  masterKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected 32 random bytes, base64-encoded (openssl rand -base64 32)').optional(),
  backupDir: z.string().min(1).optional(),
  backupKeep: wholeNumber(1, 3650).default(7),
  archiveOverdueHours: wholeNumber(1, 72).default(2),
  blobEncryption: oneOf(['on', 'off']).default('on'),
  searchDocuments: oneOf(['on', 'off']).default('on'),
  mediaStore: z.string().min(1).optional(),
});
export type RawConfig = z.infer<typeof rawConfigSchema>;

export const settings: Setting[] = [
  { key: 'port', env: 'PORT', doc: 'HTTP port of the bridge (webhooks, API, sandbox page).' },
  { key: 'host', env: 'WA_BRIDGE_HOST', doc: 'Address to listen on. Default: 0.0.0.0 (every interface); in the sandbox 127.0.0.1, because the sandbox signs every visitor in as a demo user with every role.' },
  { key: 'dataDir', env: 'WA_BRIDGE_DATA_DIR', doc: 'Directory for the SQLite database, media blobs, relayed mail and keys.' },
  { key: 'databaseUrl', env: 'WA_BRIDGE_DATABASE_URL', doc: 'Database URL. Default: sqlite:<data dir>/wa-bridge.sqlite.' },
  { key: 'databasePreparedStatements', env: 'WA_BRIDGE_DATABASE_PREPARED_STATEMENTS', doc: 'PostgreSQL: on sends statements as named prepared statements, parsed once per connection; off for a pooler that cannot keep them (PgBouncer before 1.21, or without max_prepared_statements, in transaction mode).' },
  { key: 'tenant', env: 'WA_BRIDGE_TENANT', doc: 'Tenant name hashed into every Message-ID. Never change it once mail has been relayed.' },
  { key: 'mailTransport', env: 'WA_BRIDGE_MAIL_TRANSPORT', doc: 'How mirrored mail reaches the mailbox: smtp (the firm\'s gateway) or graph (Microsoft Graph sendMail from WA_BRIDGE_GRAPH_MAILBOX). README: "Which mail route is journaled".' },
  { key: 'smtpUrl', env: 'WA_BRIDGE_SMTP_URL', doc: 'SMTP server that receives mirrored mail, e.g. smtp://mail.firm.example:25 (user:password@ allowed).', secret: true },
  { key: 'smtpMaxConnections', env: 'WA_BRIDGE_SMTP_MAX_CONNECTIONS', doc: 'Pooled SMTP connections.' },
  { key: 'mailbox', env: 'WA_BRIDGE_MAILBOX', doc: 'Firm address that receives mirrored mail, e.g. whatsapp@firm.example.' },
  { key: 'mailDomain', env: 'WA_BRIDGE_MAIL_DOMAIN', doc: 'Domain on the right of Message-IDs and reply addresses, e.g. wa.firm.example.' },
  { key: 'timeZone', env: 'WA_BRIDGE_TIMEZONE', doc: "Zone (IANA name, e.g. Europe/London) in which mirrored mails show times in their body, evidence exports write their transcripts and chat-export imports read their times, unless a command is told otherwise. Default: this machine's zone." },
  { key: 'envelopeFrom', env: 'WA_BRIDGE_ENVELOPE_FROM', doc: 'SMTP envelope sender (bounces go here). Default bridge@<mail domain>.' },
  { key: 'replySecret', env: 'WA_BRIDGE_REPLY_SECRET', doc: 'Secret for reply-address tokens. Default: generated once into <data dir>/keys/reply.key.', secret: true },
  { key: 'cloudApiAppSecret', env: 'WA_BRIDGE_CLOUD_API_APP_SECRET', doc: 'Meta app secret; checks X-Hub-Signature-256 on webhooks.', secret: true },
  { key: 'cloudApiVerifyToken', env: 'WA_BRIDGE_CLOUD_API_VERIFY_TOKEN', doc: 'Verify token typed into the Meta App Dashboard for the webhook handshake.', secret: true },
  { key: 'cloudApiAccessToken', env: 'WA_BRIDGE_CLOUD_API_ACCESS_TOKEN', doc: 'System-user access token for media downloads and sending.', secret: true },
  { key: 'cloudApiBaseUrl', env: 'WA_BRIDGE_CLOUD_API_BASE_URL', doc: "Graph API base URL (Meta's by default; tests and the sandbox point it at the simulator)." },
  { key: 'cloudApiVersion', env: 'WA_BRIDGE_CLOUD_API_VERSION', doc: 'Graph API version.' },
  { key: 'mediaMaxBytes', env: 'WA_BRIDGE_MEDIA_MAX_BYTES', doc: 'Largest media item downloaded, in bytes (100 MiB: the WhatsApp document limit).' },
  { key: 'mediaTimeoutSeconds', env: 'WA_BRIDGE_MEDIA_TIMEOUT_SECONDS', doc: 'Cloud API media: seconds a download may go without data before it is given up and tried again later (one that keeps sending may take up to 15 minutes).' },
  { key: 'logLevel', env: 'WA_BRIDGE_LOG_LEVEL', doc: 'fatal, error, warn, info, debug, trace or silent.' },
  { key: 'sandbox', env: 'WA_BRIDGE_SANDBOX', doc: 'auto (sandbox when no WhatsApp and no mail settings), on or off.' },
  { key: 'workerConcurrency', env: 'WA_BRIDGE_WORKER_CONCURRENCY', doc: 'Outbox jobs run at once (at most one per conversation).' },
  { key: 'jobLeaseSeconds', env: 'WA_BRIDGE_JOB_LEASE_SECONDS', doc: 'How long a job claim holds unless renewed (running instances renew theirs); with several instances, the jobs of one that died move to the others within this time.' },
  { key: 'whatsappWeb', env: 'WA_BRIDGE_WHATSAPP_WEB', doc: 'on: also run the unofficial whatsapp-web.js channel (a linked phone; WhatsApp may ban the number; prefer the Cloud API).' },
  { key: 'chromiumPath', env: 'WA_BRIDGE_CHROMIUM_PATH', doc: 'Chromium that whatsapp-web.js drives (no browser is downloaded).' },
  { key: 'whatsappWebPairPhone', env: 'WA_BRIDGE_WHATSAPP_WEB_PAIR_PHONE', doc: 'Link by pairing code for this number instead of a QR code.' },
  { key: 'whatsappWebInlineVideo', env: 'WA_BRIDGE_WHATSAPP_WEB_INLINE_VIDEO', doc: 'on: send videos as videos (needs Google Chrome); off: as documents.' },
  { key: 'replySmtpPort', env: 'WA_BRIDGE_REPLY_SMTP_PORT', doc: "Port of the SMTP intake for solicitors' email replies (route the reply domain here). Unset: no intake." },
  { key: 'replySmtpHost', env: 'WA_BRIDGE_REPLY_SMTP_HOST', doc: 'Address the reply intake listens on.' },
  { key: 'replyImapUrl', env: 'WA_BRIDGE_REPLY_IMAP_URL', doc: 'Instead of (or beside) the SMTP intake: a mailbox the reply domain is delivered to, read over IMAP (imaps://user:password@host/INBOX).', secret: true },
  { key: 'replyImapPollMs', env: 'WA_BRIDGE_REPLY_IMAP_POLL_MS', doc: 'How often the reply mailbox is read anyway, in milliseconds: while its IMAP connection is up, the bridge idles on it (IDLE) and reads new mail at once, so this is the fallback.' },
  { key: 'allowedSenders', env: 'WA_BRIDGE_ALLOWED_SENDERS', doc: 'Who may reply to clients by email: addresses and @domains, comma-separated (e.g. @firm.example).' },
  { key: 'templates', env: 'WA_BRIDGE_TEMPLATES', doc: 'Approved WhatsApp templates offered outside the 24-hour window, comma-separated: name:language, or name:language:Label 1|Label 2 when the body has variables, one label per {{1}}, {{2}}… in order (1 to 20 labels of up to 60 characters, without , : or |). A reply must fill every variable. Unset: none, and two to try in the sandbox.' },
  { key: 'authTenantId', env: 'WA_BRIDGE_AUTH_TENANT_ID', doc: 'Entra ID tenant whose access tokens the API accepts. Unset: the API refuses every call (the sandbox signs in a demo user instead).' },
  { key: 'authAudience', env: 'WA_BRIDGE_AUTH_AUDIENCE', doc: "The API app registration's application id URI and/or client id: accepted token audiences, comma-separated." },
  { key: 'authJwksUrl', env: 'WA_BRIDGE_AUTH_JWKS_URL', doc: "Signing keys of the token issuer. Default: https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys." },
  { key: 'authIssuer', env: 'WA_BRIDGE_AUTH_ISSUER', doc: 'Expected token issuer. Default: https://login.microsoftonline.com/<tenant>/v2.0 (v2 tokens).' },
  { key: 'authClientId', env: 'WA_BRIDGE_AUTH_CLIENT_ID', doc: 'Client id of the API app registration, for on-behalf-of Graph calls (finding matter members by email). Unset: members are added by sign-in name.' },
  { key: 'authClientSecret', env: 'WA_BRIDGE_AUTH_CLIENT_SECRET', doc: 'Client secret of that app registration.', secret: true },
  { key: 'graphBaseUrl', env: 'WA_BRIDGE_GRAPH_BASE_URL', doc: 'Microsoft Graph base URL.' },
  { key: 'graphMailbox', env: 'WA_BRIDGE_GRAPH_MAILBOX', doc: 'Graph route: the mailbox the bridge sends from (its user principal name), e.g. wa-bridge@firm.example.' },
  { key: 'graphTenantId', env: 'WA_BRIDGE_GRAPH_TENANT_ID', doc: 'Graph route: Entra ID tenant of the app registration that sends. Default: WA_BRIDGE_AUTH_TENANT_ID.' },
  { key: 'graphClientId', env: 'WA_BRIDGE_GRAPH_CLIENT_ID', doc: 'Graph route: client id of an app registration with the Mail.Send application permission (admin consent).' },
  { key: 'graphClientSecret', env: 'WA_BRIDGE_GRAPH_CLIENT_SECRET', doc: 'Graph route: a client secret of that app registration.', secret: true },
  { key: 'graphMaxConcurrent', env: 'WA_BRIDGE_GRAPH_MAX_CONCURRENT', doc: 'Graph route: sendMail requests in flight at once from this instance, 1 to 4 (Outlook allows an app 4; share them out when several instances send from one mailbox).' },
  { key: 'checkpointKeyFile', env: 'WA_BRIDGE_CHECKPOINT_KEY_FILE', doc: 'Ed25519 private key (PEM) that signs archive checkpoints. Default: generated once into <data dir>/keys/checkpoint.pem.', secret: true },
  { key: 'checkpointIntervalHours', env: 'WA_BRIDGE_CHECKPOINT_INTERVAL_HOURS', doc: 'Hours between signed checkpoints of every chain head (at most 24).' },
  { key: 'retentionYears', env: 'WA_BRIDGE_RETENTION_YEARS', doc: 'Years a conversation is kept after its matter closes, by matter type, 2 to 21: type:years, comma-separated, with default (also for conversations never linked, from their last activity).' },
  { key: 'retentionSchedule', env: 'WA_BRIDGE_RETENTION_SCHEDULE', doc: 'daily: delete what retention has expired, with certificates in the audit trail; off: only `wa-bridge retention run`.' },
  { key: 'masterKey', env: 'WA_BRIDGE_MASTER_KEY', doc: 'Master key that wraps the data keys of backups (base64 of 32 bytes). Default: generated once into <data dir>/keys/master.key; keep a copy apart from the backups.', secret: true },
  { key: 'backupDir', env: 'WA_BRIDGE_BACKUP_DIR', doc: 'Directory for the daily encrypted backup (a different disk or mount than the data dir). Unset: no scheduled backups.' },
  { key: 'backupKeep', env: 'WA_BRIDGE_BACKUP_KEEP', doc: 'How many backups to keep in WA_BRIDGE_BACKUP_DIR; older ones are removed after each new one.' },
  { key: 'archiveOverdueHours', env: 'WA_BRIDGE_ARCHIVE_OVERDUE_HOURS', doc: 'Hours past its interval before a scheduled checkpoint, backup or retention run counts as overdue (/metrics, the admin view, the WaBridgeArchiveTaskOverdue alert), 1 to 72. A backup still being made into WA_BRIDGE_BACKUP_DIR, by any process, is not counted late for its first 24 hours.' },
  { key: 'blobEncryption', env: 'WA_BRIDGE_BLOB_ENCRYPTION', doc: 'on: media and relayed mail (in blobs/, and small mails in the database) are sealed with AES-256-GCM under data keys wrapped by the master key; off: new blobs are written plain (sealed ones stay readable).' },
  { key: 'searchDocuments', env: 'WA_BRIDGE_SEARCH_DOCUMENTS', doc: 'on: the text of documents clients send (PDF, Word .docx, plain text, CSV) is read on a thread of its own and searchable with their messages; it is kept in the search index in the database, as message text is. off: only file names and captions are searched (documents wait, and are read once it is on).' },
  { key: 'mediaStore', env: 'WA_BRIDGE_MEDIA_STORE', doc: 'Where media and relayed mail over 64 KiB are kept: file:///shared/path (a directory every bridge instance mounts) or s3://bucket/prefix?endpoint=https://host:9000&region=eu-west-2&forcePathStyle=true (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS credential chain, never in the URL). Default: file://<data dir>/blobs.' },
];
