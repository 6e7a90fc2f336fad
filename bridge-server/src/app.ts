import type { INetworkModule } from '@azure/msal-node';
import express from 'express';
import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildChannels } from './channels/registry.js';
import { adoptMarksFile } from './channels/whatsapp-web/catch-up-marks.js';
import { whatsappWebAdminRouter } from './channels/whatsapp-web/admin-page.js';
import type { WebClient } from './channels/whatsapp-web/client-port.js';
import { sessionStates, type WhatsAppWebSession } from './channels/whatsapp-web/session.js';
import { secretSettings, type CloudApiSettings, type Config, type MailSettings } from './config/load.js';
import { scheduleCheckpoints } from './archive/checkpoints.js';
import { openBlobStore } from './archive/keyring.js';
import { exportToTemp } from './archive/export/bundle.js';
import { refuseMissingBackupDir, scheduleBackups } from './archive/backup.js';
import { recordConfiguration } from './archive/config-record.js';
import { loadMasterKey } from './archive/crypto.js';
import { archiveTasks, isOverdue, type ArchiveTaskName } from './archive/health.js';
import { scheduleRetention } from './archive/retention.js';
import { repeatHere } from './archive/schedule.js';
import { loadCheckpointKey } from './archive/signing-key.js';
import { loadOrCreateKey } from './config/secrets.js';
import { ConfigError } from './core/errors.js';
import type { OutboundCommand } from './core/commands.js';
import type { EmailReplyOutcome, InboundEmailReply } from './core/email-reply.js';
import type { NormalizedBatch } from './core/events.js';
import type { Clock } from './core/ports.js';
import type { Job } from './core/records.js';
import { fetchMedia } from './flows/fetch-media.js';
import { ThreadedDocumentReader } from './search/document-reader.js';
import { startDocumentIndexer } from './search/document-indexer.js';
import { countWaitingDocuments } from './store/document-text.js';
import { ingestInTransaction, type IngestResult } from './flows/ingest.js';
import { handleEmailReply } from './flows/email-reply.js';
import { sendNotice } from './flows/notice.js';
import { submitReply, type ReplyAccepted } from './flows/reply.js';
import { relayEvent, relayRun } from './flows/relay.js';
import { sendOutbound } from './flows/send.js';
import { ThreadedComposer } from './mail/compose/threaded-composer.js';
import { extractReplyText } from './mail/inbound/reply-text/extract.js';
import { startImapReplyPoller, type ImapPoller } from './mail/inbound/imap-poller.js';
import { startInboundSmtp } from './mail/inbound/smtp-listener.js';
import { GraphMailTransport } from './mail/transport/graph.js';
import { ThreadedSmtpTransport } from './mail/transport/smtp.js';
import { problemHandler, sendProblem } from './api/problem.js';
import { ChangeFeed } from './api/change-feed.js';
import { readChannelStatus } from './api/channel-status.js';
import { apiRouter } from './api/router.js';
import { GraphUserDirectory } from './auth/graph-directory.js';
import { createSandboxSignIn } from './auth/sandbox-signin.js';
import { entraTrust, TokenValidator } from './auth/token-validator.js';
import { staticUiRouter } from './api/static-ui.js';
import { componentLogger, createLogger, type Logger } from './ops/logger.js';
import { createMetrics, failureReason, webhookOutcome, type Metrics } from './ops/metrics.js';
import { startSharedSchedules } from './ops/shared-schedules.js';
import { OutboxWorker } from './outbox/worker.js';
import { startSandbox, type Sandbox } from './sandbox/start.js';
import { describeLocation, openDatabase, type OpenedDatabase } from './store/db.js';
import { checkStoreFits } from './store/store-fit.js';
import { readSandboxHistory, readSandboxPicture } from './store/sandbox-history.js';
import { withNoticeMails } from './sandbox/history.js';
import { defaultSimulatedBusiness } from './channels/simulator/builders.js';
import { BACKSTOP_CHECKPOINT_PAGES, WalCheckpointer } from './store/wal-checkpointer.js';
import { SqlAuditTrail } from './store/audit.js';
import { GroupCommit } from './store/group-commit.js';
import { StoreLeases, StoreMarks } from './store/leases.js';
import { SqlOutbox } from './store/outbox.js';
import { SqlRelayRuns } from './store/relays.js';
import { SqlStore } from './store/sql-store.js';

export interface Bridge {
  url: string;
  port: number;
  config: Config;
  store: SqlStore;
  outbox: SqlOutbox;
  worker: OutboxWorker;
  metrics: Metrics;
  sandbox?: Sandbox;
  /** The SMTP port of the email reply intake, when it runs. */
  replyIntakePort?: number;
  /** The IMAP reply reader, when it runs. */
  replyPoller?: ImapPoller;
  /** The whatsapp-web.js session, when that channel is on. */
  whatsappWeb?: WhatsAppWebSession;
  /** Stores a batch as the webhook would, and wakes the worker. */
  ingest(batch: NormalizedBatch): Promise<IngestResult>;
  /** Accepts a solicitor's reply (as the API and the email intake do), and wakes the worker. */
  reply(command: OutboundCommand): Promise<ReplyAccepted>;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** The MIME composer thread's entry when the server runs from a bundle; otherwise its TypeScript, through tsx. */
  composeThread?: string;
  /** The SMTP client thread's entry, likewise. */
  smtpThread?: string;
  /** The document reader thread's entry, likewise. */
  documentTextThread?: string;
  /** How often /readyz checks the SMTP server at most; tests shorten it. Default 30 s. */
  smtpCheckMs?: number;
  /** Retry backoff ceiling; tests shorten it. Default 5 minutes. */
  retryMaxDelayMs?: number;
  retryBaseDelayMs?: number;
  /** Tries of a failing media download before it waits for a person; tests lower it. Default 16. */
  mediaFetchAttempts?: number;
  /** The least wait before a WhatsApp send that may have gone is tried again; tests shorten it. Default 30 s. */
  unknownSendDelayMs?: number;
  pollMs?: number;
  /** Tests: a double of the whatsapp-web.js client (see channels/registry.ts). */
  createWebClient?: () => WebClient;
  /** How long an instance's claim on the whatsapp-web.js session holds unrenewed; tests shorten it. Default 30 s. */
  whatsappWebLeaseMs?: number;
  /**
   * Tests: MSAL's HTTP client for every call the bridge makes to Entra ID (the Graph mail route's
   * client credentials, the matter-member lookup's on-behalf-of exchange), to reach a local stand-in.
   */
  graphNetworkClient?: INetworkModule;
  /** Tests: false stops the sandbox's simulator posting delivery statuses by itself, so a test posts each one. Default true. */
  sandboxAutoStatuses?: boolean;
}

const systemClock: Clock = { now: () => Date.now() };

/**
 * The composition root: builds every adapter from the configuration, hands them to the flows, and
 * starts the HTTP server and the outbox worker. Wiring only; behaviour lives in the flows.
 */
export async function startBridge(config: Config, options: StartOptions = {}): Promise<Bridge> {
  const started = new StartedParts();
  try {
    return await startParts(config, options, started);
  } catch (error) {
    // A start that fails half-way closes what it opened, in reverse order, so the process ends
    // with its error instead of staying up on the threads, timers and ports opened before.
    await started.closeAll().catch(() => undefined);
    throw error;
  }
}

/**
 * What a bridge has started, each with how to close it. Closing goes in reverse order of starting
 * and closes each part once, however often it is asked; a part that fails to close does not keep
 * the others open. A failed start and a stopping bridge both close through here, so a part added
 * to the bridge is closed on both paths.
 */
class StartedParts {
  private readonly closers: Array<() => Promise<void>> = [];

  /** Records how to close what was just started; returns that close, which runs only once. */
  add(close: () => unknown): () => Promise<void> {
    let closing: Promise<void> | undefined;
    const once = (): Promise<void> => (closing ??= Promise.resolve().then(close).then(() => undefined));
    this.closers.push(once);
    return once;
  }

  /** Closes every part, last started first; rejects with the first failure once all were tried. */
  async closeAll(): Promise<void> {
    let failure: { error: unknown } | undefined;
    for (const close of [...this.closers].reverse()) {
      try {
        await close();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}

/** startBridge's steps; `started` is told how to close each part as soon as it is started. */
async function startParts(config: Config, options: StartOptions, started: StartedParts): Promise<Bridge> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const log = componentLogger(logger, 'app');
  const metrics = createMetrics();
  const opened = await openDatabase(config.database);
  started.add(() => opened.close());
  if (opened.applied.length > 0) log.info({ migrations: opened.applied }, 'database schema updated');
  const walCheckpoints = config.database.kind === 'sqlite' && config.database.file !== ':memory:' ? await checkpointWalAside(opened, config.database.file, log) : undefined;
  started.add(() => walCheckpoints?.close());
  await checkStoreFits(opened.db, { tenant: config.tenant, sandbox: config.sandbox, sandboxBusinessId: defaultSimulatedBusiness.phoneNumberId, where: describeLocation(config.database) });
  const store = new SqlStore(opened.db, config.tenant);
  const outbox = new SqlOutbox(opened.db);
  // Webhooks that arrive while a commit is under way share the next one; each is answered only
  // after the commit that holds it. On SQLite the relay's writes join the same groups, so what a
  // pass of the event loop writes pays one commit (SQLite's costliest statement) between them.
  const writeGroup = new GroupCommit(opened.db);
  const checkpointLog = componentLogger(logger, 'archive');
  /** A scheduled archive task's failure: logged, and counted for /metrics. */
  const archiveFailed = (task: ArchiveTaskName, what: string) => (error: Error) => {
    metrics.archiveFailures.inc({ task });
    checkpointLog.error({ err: error }, what);
  };
  const checkpointKey = loadCheckpointKey(config.dataDir, config.checkpoints.keyFile);
  // On PostgreSQL other instances may share the store: each repeating task runs once among them.
  const sharedSchedules = config.database.kind === 'postgres' ? await startSharedSchedules(config.database.url, logger) : undefined;
  started.add(() => sharedSchedules?.stop());
  const repeat = sharedSchedules?.repeat ?? repeatHere;
  const checkpoints = scheduleCheckpoints({
    repeat,
    db: opened.db,
    key: checkpointKey,
    intervalMs: config.checkpoints.intervalMs,
    onError: archiveFailed('checkpoint', 'checkpoint not written; tried again after a minute, then at doubling gaps of up to an hour'),
    onWritten: (row) => checkpointLog.info({ checkpointId: row.id }, 'checkpoint of the chain heads signed'),
  });
  started.add(() => checkpoints.stop());
  const { store: blobs, keys: blobKeys } = await openBlobStore(config, opened.db);
  // A bucket that cannot be reached stops the start, rather than every media job later.
  await blobs.check();
  const audit = new SqlAuditTrail(opened.db);
  // A start with different settings is a configuration change: recorded before anything runs.
  if (config.effectiveSettings) await recordConfiguration(opened.db, audit, config.effectiveSettings, secretSettings);
  const retention = config.retention.daily ? scheduleRetention({ repeat, db: opened.db, blobs, audit, policy: config.retention.policy, onError: archiveFailed('retention', 'retention run failed; tried again after a minute, then at doubling gaps of up to an hour') }) : undefined;
  if (config.backups) await refuseMissingBackupDir(config.backups.dir);
  const backups = config.backups
    ? scheduleBackups({ repeat, source: config.database.kind === 'sqlite' ? config.database : { kind: 'postgres', db: opened.db }, blobs, master: loadMasterKey(config.dataDir, config.masterKey), dir: config.backups.dir, keep: config.backups.keep, audit, onError: archiveFailed('backup', 'backup failed; tried again after a minute, then at doubling gaps of up to an hour') })
    : undefined;
  started.add(() => retention?.stop());
  started.add(() => backups?.stop());
  // The scheduled tasks as they stand, for /metrics and the admin view.
  const upSince = Date.now();
  const archiveSchedule = { checkpointEveryMs: config.checkpoints.intervalMs, retentionDaily: config.retention.daily, ...(config.backups ? { backupDir: config.backups.dir } : {}) };
  const archiveStatus = async () => {
    const now = Date.now();
    return (await archiveTasks(opened.db, archiveSchedule)).map((task) => ({ ...task, overdue: isOverdue(task, now, upSince, config.archiveOverdueMs) }));
  };
  const replySecret = config.replySecret ? Buffer.from(config.replySecret, 'utf8') : loadOrCreateKey(config.dataDir, 'reply');

  const sandboxSecrets = { appSecret: randomBytes(24).toString('hex'), verifyToken: randomBytes(12).toString('hex'), accessToken: `sandbox-${randomBytes(16).toString('hex')}` };
  let sandbox: Sandbox | undefined;
  let mail: MailSettings;
  let cloudApi: CloudApiSettings | undefined = config.cloudApi;
  if (config.sandbox) {
    const running = await startSandbox({
      logger: componentLogger(logger, 'sandbox'),
      ...sandboxSecrets,
      autoStatuses: options.sandboxAutoStatuses ?? true,
      pictures: (businessId, waMessageId) => readSandboxPicture(opened.db, blobs, { tenant: config.tenant, businessId }, waMessageId),
    });
    started.add(() => running.stop());
    sandbox = running;
    mail = { smtpUrl: sandbox.catcher.url, maxConnections: 4, mailbox: sandbox.mailbox, envelopeFrom: `bridge@${config.mailDomain}` };
    // The store outlives the catcher and the simulator: the page shows again what came before this start.
    const notices = { tenant: config.tenant, mailDomain: config.mailDomain, mailbox: mail.mailbox, replySecret, templates: config.templates, timeZone: config.timeZone };
    await running.recall(async (scope) => withNoticeMails(await readSandboxHistory(opened.db, blobs, { tenant: config.tenant, ...scope }), notices), { from: mail.envelopeFrom, to: [mail.mailbox] });
    cloudApi = { ...sandboxSecrets, baseUrl: sandbox.simulator.url, version: 'v23.0' };
  } else if (config.mail) {
    mail = config.mail;
  } else {
    throw new Error('mail settings missing outside the sandbox');
  }

  const transport =
    'graph' in mail
      ? new GraphMailTransport({ ...mail.graph, mailbox: mail.graph.sendingMailbox, ...(options.graphNetworkClient ? { networkClient: options.graphNetworkClient } : {}) })
      : new ThreadedSmtpTransport({ url: mail.smtpUrl, maxConnections: mail.maxConnections }, options.smtpThread);
  started.add(() => transport.close());
  const smtpLog = componentLogger(logger, 'smtp');
  // Relayed mails are built, composed and stored on a thread of their own, so the second core
  // does that share of the relay. The thread starts with the first mail: an idle bridge does
  // not hold a second JavaScript runtime for it.
  const composer = new ThreadedComposer({ blobStore: config.mediaStore, ...(blobKeys ? { blobKeys, sealBlobs: config.blobEncryption } : {}) }, options.composeThread);
  started.add(() => composer.close());
  // Documents' text goes into the search index in the background, read on a thread of its own
  // (started with the first document).
  const documentReader = config.searchDocuments ? new ThreadedDocumentReader(options.documentTextThread ? { entry: options.documentTextThread } : {}) : undefined;
  started.add(() => documentReader?.close());
  const documents = documentReader ? startDocumentIndexer({ db: opened.db, blobs, reader: documentReader, logger: componentLogger(logger, 'search'), onRead: (outcome) => metrics.documentsRead.inc({ outcome }) }) : undefined;
  started.add(() => documents?.stop());
  const relayDeps = {
    store,
    outbox,
    blobs,
    composer,
    transport,
    clock: systemClock,
    tenant: config.tenant,
    mailDomain: config.mailDomain,
    timeZone: config.timeZone,
    mailbox: mail.mailbox,
    envelopeFrom: mail.envelopeFrom,
    replySecret,
    runs: new SqlRelayRuns(opened.db, writeGroup),
    relayComposer: composer,
  };
  const outboxLog = componentLogger(logger, 'outbox');
  const worker = new OutboxWorker(
    outbox,
    {
      'mail.relay': async (job) => {
        await relayEvent(relayDeps, job as Job<'mail.relay'>);
      },
      'media.fetch': async (job) => {
        await fetchMedia({ store, outbox, blobs, fetchers: channels.fetchers }, job as Job<'media.fetch'>);
        documents?.nudge();
      },
      'wa.send': async (job) => {
        await sendOutbound({ store, outbox, blobs, clock: systemClock, tenant: config.tenant, channels: channels.senders }, job as Job<'wa.send'>);
        worker.wake();
      },
      'mail.notice': async (job) => {
        await sendNotice({ ...relayDeps, templates: config.templates }, job as Job<'mail.notice'>);
      },
    },
    {
      concurrency: config.workerConcurrency,
      // Renewed while a job runs; a dead instance's claims come back to the others within it.
      leaseMs: config.jobLeaseMs,
      pollMs: options.pollMs ?? 1000,
      retry: {
        baseDelayMs: options.retryBaseDelayMs ?? 1000,
        maxDelayMs: options.retryMaxDelayMs ?? 5 * 60_000,
        ...(options.mediaFetchAttempts === undefined ? {} : { mediaAttempts: options.mediaFetchAttempts }),
        ...(options.unknownSendDelayMs === undefined ? {} : { unknownSendDelayMs: options.unknownSendDelayMs }),
      },
      clock: systemClock,
      // A conversation's queued mails go as one run: one load, one prepare and one record per run.
      runs: { handlers: { 'mail.relay': (jobs) => relayRun(relayDeps, jobs as Array<Job<'mail.relay'>>) }, maxLength: 32 },
      events: {
        onDone: (job, ms) => {
          metrics.jobs.inc({ kind: job.kind, outcome: 'done' });
          metrics.jobSeconds.observe({ kind: job.kind }, ms / 1000);
        },
        onRetry: (job, error, delayMs) => {
          metrics.jobs.inc({ kind: job.kind, outcome: 'retry' });
          metrics.jobFailures.inc({ kind: job.kind, reason: failureReason(error) });
          outboxLog.warn({ jobId: job.id, kind: job.kind, attempts: job.attempts, delayMs, err: error }, 'job failed, will retry');
        },
        onParked: (job, error) => {
          metrics.jobs.inc({ kind: job.kind, outcome: 'parked' });
          metrics.jobFailures.inc({ kind: job.kind, reason: failureReason(error) });
          outboxLog.error({ jobId: job.id, kind: job.kind, attempts: job.attempts, err: error }, 'job needs attention');
        },
        onCrash: (error) => outboxLog.error({ err: error }, 'outbox worker error'),
      },
    },
  );

  const ingest = async (batch: NormalizedBatch): Promise<IngestResult> => {
    const result = await writeGroup.run((tx) => ingestInTransaction({ store, clock: systemClock, tenant: config.tenant }, tx, batch));
    for (const event of result.stored) metrics.events.inc({ channel: event.channel, kind: event.kind, result: 'stored' });
    if (result.duplicates > 0) metrics.events.inc({ channel: batch.events[0]?.channel ?? 'unknown', kind: 'any', result: 'duplicate' }, result.duplicates);
    if (result.stored.length > 0) worker.wake();
    return result;
  };

  // The whatsapp-web.js session's lease and catch-up marks live in the store every instance shares.
  const webMarks = new StoreMarks(opened.db);
  if (config.whatsappWeb) await adoptMarksFile(config.dataDir, webMarks);
  const channels = buildChannels(
    {
      dataDir: config.dataDir,
      mediaMaxBytes: config.mediaMaxBytes,
      mediaTimeoutMs: config.mediaTimeoutMs,
      templates: config.templates,
      ...(cloudApi ? { cloudApi } : {}),
      ...(config.whatsappWeb ? { whatsappWeb: config.whatsappWeb } : {}),
      ...(options.createWebClient ? { createWebClient: options.createWebClient } : {}),
      shared: { leases: new StoreLeases(opened.db), marks: webMarks, ...(options.whatsappWebLeaseMs ? { leaseTtlMs: options.whatsappWebLeaseMs } : {}) },
    },
    async (batch) => void (await ingest(batch)),
    logger,
  );
  started.add(() => channels.stop());

  const reply = async (command: OutboundCommand): Promise<ReplyAccepted> => {
    const accepted = await submitReply({ store, clock: systemClock, templates: config.templates }, command);
    worker.wake();
    return accepted;
  };

  const countWebhook = webhookCounter(metrics, 'cloud-api');
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  if (channels.cloudWebhook) {
    app.use('/webhooks/whatsapp', (req, res, next) => {
      countWebhook(req, res);
      next();
    });
    app.use('/webhooks/whatsapp', channels.cloudWebhook.router);
  }
  if (channels.whatsappWeb) app.use('/admin/whatsapp-web', whatsappWebAdminRouter(channels.whatsappWeb));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
    } catch {
      return sendProblem(res, 503, 'not_ready', 'The database is not answering.');
    }
    // The Graph route is ready when Entra ID issues its token; Graph itself is not called.
    if (transport instanceof GraphMailTransport) {
      try {
        await transport.checkReady();
      } catch (error) {
        return sendProblem(res, 503, 'not_ready', (error as Error).message);
      }
    }
    // Neither an SMTP server that does not answer nor a WhatsApp Web session that is down or runs
    // on another instance makes this one unready: it still stores webhooks (their mails go once the
    // server answers), replies and API calls. Their states are reported for the operator.
    const smtp = transport instanceof ThreadedSmtpTransport ? await transport.state(options.smtpCheckMs ?? 30_000, (error) => smtpLog.warn({ err: error }, 'the SMTP server did not answer a check')) : undefined;
    const whatsappWeb = channels.whatsappWeb?.status();
    res.json({
      status: 'ready',
      sandbox: config.sandbox,
      mailRoute: transport instanceof GraphMailTransport ? 'graph' : 'smtp',
      ...(smtp ? { smtp } : {}),
      ...(whatsappWeb ? { whatsappWeb: { state: whatsappWeb.state, ...(whatsappWeb.standby ? { detail: whatsappWeb.standby } : {}) } } : {}),
    });
  });
  app.get('/metrics', async (_req, res) => {
    metrics.setJobCounts(await outbox.counts());
    if (channels.whatsappWeb) metrics.setWhatsAppWebState(channels.whatsappWeb.status().state, sessionStates);
    metrics.relayLag.set((await outbox.oldestPendingAgeMs(Date.now())) / 1000);
    metrics.setArchiveTasks(await archiveStatus());
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(staticUiRouter());
  if (sandbox) {
    app.use('/sandbox', sandbox.router);
    app.get('/', (_req, res) => res.redirect('/sandbox'));
  } else {
    app.get('/', (_req, res) => void res.json({ service: 'wa-bridge', webhook: '/webhooks/whatsapp', health: '/healthz' }));
  }
  // The API: Entra ID tokens when a tenant is configured; in the sandbox also the demo sign-in,
  // whose key exists only in this process.
  const sandboxSignIn = sandbox ? await createSandboxSignIn(sandbox.firmDomain) : undefined;
  const trusts = [...(config.auth ? [entraTrust(config.auth)] : []), ...(sandboxSignIn ? [sandboxSignIn.trust] : [])];
  const feed = new ChangeFeed(opened.db, { pollMs: 250, now: systemClock.now, onError: (error) => log.error({ err: error }, 'live stream feed failed') });
  const stopFeed = started.add(() => feed.stop());
  const webhookCounts = async () => Object.fromEntries((await metrics.webhooks.get()).values.map((v) => [String(v.labels.outcome), v.value]));
  const allowedSenders = sandbox ? [`@${sandbox.firmDomain}`] : (config.replyIntake?.allowedSenders ?? []);
  app.use(
    '/api',
    apiRouter(
      {
        db: opened.db,
        outbox,
        blobs,
        clock: systemClock,
        templates: config.templates,
        sandbox: config.sandbox,
        timeZone: config.timeZone,
        mediaMaxBytes: config.mediaMaxBytes,
        retention: config.retention.policy,
        ...(trusts.length > 0 ? { validator: new TokenValidator(trusts) } : {}),
        ...(sandboxSignIn ? { sandboxSignIn } : {}),
        ...(config.auth?.graph ? { directory: new GraphUserDirectory(config.auth.graph, options.graphNetworkClient ? { networkClient: options.graphNetworkClient } : {}) } : {}),
        reply,
        channelStatus: async () => ({
          channels: await readChannelStatus({ cloudApi: cloudApi !== undefined, webhookCounts, ...(channels.whatsappWeb ? { whatsappWeb: () => channels.whatsappWeb!.status() } : {}) }),
          allowedSenders,
        }),
        wake: () => worker.wake(),
        archiveStatus,
        documentsWaiting: async () => (documents ? countWaitingDocuments(opened.db) : null),
        feed,
        audit,
        exportEvidence: (request) =>
          exportToTemp({
            db: opened.db,
            blobs,
            key: checkpointKey,
            selection: { conversations: request.conversations, ...(request.matter !== undefined ? { matter: request.matter } : {}), ...(request.from !== undefined ? { from: request.from } : {}), ...(request.to !== undefined ? { to: request.to } : {}) },
            timeZone: request.timeZone,
            exportedBy: request.exportedBy,
          }),
      },
      componentLogger(logger, 'http'),
    ),
  );
  app.use((req, res) => sendProblem(res, 404, 'not_found', `No route for ${req.method} ${req.path}.`));
  app.use(problemHandler(componentLogger(logger, 'http')));

  const replyLog = componentLogger(logger, 'reply');
  // The sandbox answers its own clients too: replies go to an intake on loopback, from the
  // sandbox firm's domain only.
  const replyRoute = sandbox ? { smtp: { host: '127.0.0.1', port: 0 }, allowedSenders: [`@${sandbox.firmDomain}`] } : config.replyIntake;
  const onReply = async (inbound: InboundEmailReply): Promise<EmailReplyOutcome> => {
    const deps = { store, clock: systemClock, templates: config.templates, blobs, mailDomain: config.mailDomain, replySecret, allowedSenders: replyRoute?.allowedSenders ?? [] };
    const outcome = await handleEmailReply(deps, inbound);
    if (outcome.outcome === 'accepted' || outcome.outcome === 'refused') worker.wake();
    return outcome;
  };
  const logReply = (fields: Record<string, unknown>, message: string) => replyLog.info(fields, message);
  const intakeAt = replyRoute?.smtp;
  const intake = intakeAt
    ? await startInboundSmtp({ ...intakeAt, mailDomain: config.mailDomain, maxBytes: 35 * 1024 * 1024, extract: extractReplyText, onReply, log: logReply }).catch((error: NodeJS.ErrnoException) => {
        throw listenProblem(error, intakeAt.port, intakeAt.host, { port: 'WA_BRIDGE_REPLY_SMTP_PORT', host: 'WA_BRIDGE_REPLY_SMTP_HOST' });
      })
    : undefined;
  started.add(() => intake?.stop());
  const replyPoller = replyRoute?.imap
    ? startImapReplyPoller({ ...replyRoute.imap, mailDomain: config.mailDomain, extract: extractReplyText, onReply, log: logReply })
    : undefined;
  started.add(() => replyPoller?.stop());

  // Webhook deliveries are answered before express (CloudWebhook.listener says why).
  const listener = channels.cloudWebhook ? channels.cloudWebhook.listener(app, { logger: componentLogger(logger, 'http'), seen: countWebhook }) : app;
  const stopWorker = started.add(() => worker.stop());
  const server = await listen(listener, config.port, config.host);
  // Closing starts at the front door: no new requests, the live feeds ended, the worker's jobs
  // finished (a worker not yet started stops at once), then the connections left. The rest
  // closes in reverse order of starting.
  started.add(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await stopFeed();
    server.closeIdleConnections();
    await stopWorker();
    server.closeAllConnections();
    await closed;
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  if (sandbox) await sandbox.connect(`${url}/webhooks/whatsapp`, intake?.port);
  // On SQLite this process is the store's only worker: whatever a crash left running is taken
  // back at once. On PostgreSQL other instances may be running those jobs right now.
  await worker.start(config.database.kind === 'sqlite');
  log.info({ url, sandbox: config.sandbox, database: describeLocation(config.database) }, 'wa-bridge started');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      log.info('wa-bridge stopping: no new work is taken and running jobs finish (a second SIGTERM or SIGINT ends it at once)');
      await started.closeAll();
      log.info('wa-bridge stopped');
    })());

  return { url, port, config, store, outbox, worker, metrics, ...(sandbox ? { sandbox } : {}), ...(intake ? { replyIntakePort: intake.port } : {}),
    ...(replyPoller ? { replyPoller } : {}),
    ...(channels.whatsappWeb ? { whatsappWeb: channels.whatsappWeb } : {}), ingest, reply, stop };
}

/** SQLite's WAL checkpointed on a thread of its own, the bridge's connection keeping a backstop. */
async function checkpointWalAside(opened: OpenedDatabase, file: string, log: Logger): Promise<WalCheckpointer> {
  const checkpointer = new WalCheckpointer(file, (message) => log.warn({ problem: message }, `the WAL checkpointer reported a problem; the bridge's own connection checkpoints once the WAL passes ${BACKSTOP_CHECKPOINT_PAGES} pages`));
  await sql`PRAGMA wal_autocheckpoint = ${sql.raw(String(BACKSTOP_CHECKPOINT_PAGES))}`.execute(opened.db);
  return checkpointer;
}

/** Counts and times each webhook delivery by how it was answered, once the answer is sent. */
function webhookCounter(metrics: Metrics, channel: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'POST') return;
    const started = performance.now();
    res.once('finish', () => {
      const outcome = webhookOutcome(res.statusCode);
      metrics.webhooks.inc({ channel, outcome });
      metrics.webhookSeconds.observe({ channel, outcome }, (performance.now() - started) / 1000);
    });
  };
}

function listen(listener: RequestListener, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(listener).listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenProblem(error, port, host)));
  });
}

/**
 * Why a port could not be opened, said as the settings to change (`names`: the port's and the
 * host's variables) when that is the cause; any other error as it is.
 */
function listenProblem(error: NodeJS.ErrnoException, port: number, host: string, names = { port: 'PORT', host: 'WA_BRIDGE_HOST' }): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new ConfigError(`${names.port}: ${host}:${port} is already in use (another wa-bridge, or another program); stop it or set ${names.port} to a free port`);
    case 'EACCES':
      return new ConfigError(`${names.port}: this process may not listen on port ${port} (on Linux, ports below 1024 need privileges); use a port from 1024 up, behind a reverse proxy`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`${names.host}: ${host} is not an address of this machine`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(`${names.host}: ${host} is not an address, and no name server knows it as a name (e.g. 0.0.0.0 for every interface, 127.0.0.1 for this machine only)`);
    default:
      return error;
  }
}
