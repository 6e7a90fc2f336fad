import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isBridgeError, UpstreamError } from '../core/errors.js';
import type { JobKind, JobState } from '../core/records.js';

/** How a webhook delivery was answered, as `outcome` labels it (docs/alerts match on these). */
export const webhookOutcomes = ['accepted', 'rejected_signature', 'bad_payload', 'error'] as const;
export type WebhookOutcome = (typeof webhookOutcomes)[number];

/** A webhook's outcome from the HTTP status it was answered with. */
export function webhookOutcome(status: number): WebhookOutcome {
  return status < 300 ? 'accepted' : status === 401 ? 'rejected_signature' : status < 500 ? 'bad_payload' : 'error';
}

/**
 * Every metric the bridge exports, in one place: wa_bridge_<thing>_<unit>, labelled by channel,
 * job kind and outcome. Each needs-attention state has a gauge.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wa_bridge_process_' });
  const webhooks = new Counter({
    name: 'wa_bridge_webhook_requests_total',
    help: `Webhook deliveries by channel and outcome (${webhookOutcomes.join(', ')}).`,
    labelNames: ['channel', 'outcome'],
    registers: [registry],
  });
  const events = new Counter({
    name: 'wa_bridge_events_ingested_total',
    help: 'WhatsApp events stored, by channel and kind; duplicates counted separately.',
    labelNames: ['channel', 'kind', 'result'],
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'wa_bridge_outbox_job_runs_total',
    help: 'Outbox job runs by kind and outcome (done, retry, parked).',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
  const jobFailures = new Counter({
    name: 'wa_bridge_outbox_job_failures_total',
    help: 'Failed outbox job runs (retried or parked) by kind and reason: the service and whether the failure is transient or permanent (smtp_transient, whatsapp_permanent …), or the error\'s code.',
    labelNames: ['kind', 'reason'],
    registers: [registry],
  });
  const webhookSeconds = new Histogram({
    name: 'wa_bridge_webhook_duration_seconds',
    help: 'Time from a webhook delivery\'s arrival to its answer (after the commit that stores it), by channel and outcome.',
    labelNames: ['channel', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: 'wa_bridge_outbox_job_duration_seconds',
    help: 'Time to run one successful outbox job, by kind.',
    labelNames: ['kind'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const jobsByState = new Gauge({
    name: 'wa_bridge_outbox_jobs',
    help: 'Queued outbox jobs by kind and state (pending, running, needs_attention).',
    labelNames: ['kind', 'state'],
    registers: [registry],
  });
  const needsAttention = new Gauge({
    name: 'wa_bridge_outbox_jobs_needs_attention',
    help: 'Jobs parked for a person to look at (retry them with `wa-bridge jobs retry`).',
    labelNames: ['kind'],
    registers: [registry],
  });
  const relayLag = new Gauge({
    name: 'wa_bridge_relay_lag_seconds',
    help: 'Age of the oldest pending or running job: how far mail delivery is behind.',
    registers: [registry],
  });

  const whatsappWeb = new Gauge({
    name: 'wa_bridge_whatsapp_web_session',
    help: 'The whatsapp-web.js session on this instance: 1 for its current state (starting, qr, pairing-code, ready, disconnected, standby, stopped), 0 for the others.',
    labelNames: ['state'],
    registers: [registry],
  });

  const archiveLastRun = new Gauge({
    name: 'wa_bridge_archive_last_run_timestamp_seconds',
    help: 'When each scheduled archive task (checkpoint, backup, retention) last did its work, from what it left behind (absent until it has).',
    labelNames: ['task'],
    registers: [registry],
  });
  const archiveOverdue = new Gauge({
    name: 'wa_bridge_archive_task_overdue',
    help: '1 when a scheduled archive task is more than WA_BRIDGE_ARCHIVE_OVERDUE_HOURS (2 by default) past its interval, or never ran in that long since the bridge started, and no run of it has been going for less than a day, else 0.',
    labelNames: ['task'],
    registers: [registry],
  });
  const archiveRunning = new Gauge({
    name: 'wa_bridge_archive_task_running',
    help: '1 while a run of a scheduled archive task is going, by any process (backups into WA_BRIDGE_BACKUP_DIR, from their marker there), else 0.',
    labelNames: ['task'],
    registers: [registry],
  });
  const documentsRead = new Counter({
    name: 'wa_bridge_documents_read_total',
    help: 'Documents clients sent that were read for search on this instance, by outcome: indexed (their text is searchable) or none (no text, or not readable: the log says why).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const archiveFailures = new Counter({
    name: 'wa_bridge_archive_task_failures_total',
    help: 'Runs of a scheduled archive task that failed on this instance (the log says why; a failed run is tried again after a minute, then at doubling gaps of up to an hour).',
    labelNames: ['task'],
    registers: [registry],
  });

  return {
    registry,
    archiveFailures,
    documentsRead,
    /** The archive's scheduled tasks as they stand: when each last ran, whether one is going, whether it is overdue. */
    setArchiveTasks(tasks: ReadonlyArray<{ task: string; lastRunAt: number | null; runningSince: number | null; overdue: boolean }>): void {
      for (const { task, lastRunAt, runningSince, overdue } of tasks) {
        if (lastRunAt !== null) archiveLastRun.set({ task }, lastRunAt / 1000);
        archiveRunning.set({ task }, runningSince === null ? 0 : 1);
        archiveOverdue.set({ task }, overdue ? 1 : 0);
      }
    },
    webhooks,
    events,
    jobs,
    jobFailures,
    webhookSeconds,
    jobSeconds,
    relayLag,
    /** Marks the session's current state 1 and every other 0 (absent when the channel is off). */
    setWhatsAppWebState(current: string, all: readonly string[]): void {
      for (const state of all) whatsappWeb.set({ state }, state === current ? 1 : 0);
    },
    setJobCounts(counts: Record<JobKind, Record<JobState, number>>): void {
      for (const [kind, byState] of Object.entries(counts)) {
        for (const [state, n] of Object.entries(byState)) jobsByState.set({ kind, state }, n);
        needsAttention.set({ kind }, byState.needs_attention);
      }
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A failure as a metric label, from a small fixed set: an upstream service and its retry class,
 * the error's own code, or "internal" for anything unexpected.
 */
export function failureReason(error: unknown): string {
  if (error instanceof UpstreamError) return `${error.service}_${error.retry}`;
  if (isBridgeError(error)) return error.code;
  return 'internal';
}
