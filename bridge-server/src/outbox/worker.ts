import type { Clock, Outbox } from '../core/ports.js';
import type { Job, JobKind } from '../core/records.js';
import { decideRetry, type RetryPolicy } from './retry.js';

export type JobHandler = (job: Job) => Promise<void>;

const CLAIM_COALESCE_MS = 2;
export type JobHandlers = Record<JobKind, JobHandler>;

export interface WorkerEvents {
  onDone?(job: Job, ms: number): void;
  onRetry?(job: Job, error: unknown, delayMs: number): void;
  onParked?(job: Job, error: unknown): void;
  onCrash?(error: unknown): void;
}

export interface WorkerOptions {
  concurrency: number;
  leaseMs: number;
  /** How often to look for due jobs when nothing wakes the worker (backoff expiry, other writers). */
  pollMs: number;
  retry: RetryPolicy;
  clock: Clock;
  events?: WorkerEvents;
}

/**
 * Runs outbox jobs after their transaction committed: claims up to `concurrency` due jobs (the
 * outbox guarantees one running job per conversation), runs each kind's handler, and turns a
 * failure into a delayed retry or a parked job. `wake()` after a commit makes new jobs start at
 * once; a poll catches everything else.
 */
export class OutboxWorker {
  private readonly inFlight = new Map<number, Promise<void>>();
  private running = false;
  private claiming = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outbox: Outbox,
    private readonly handlers: JobHandlers,
    private readonly options: WorkerOptions,
  ) {}

  /** Recovers jobs a crashed run left `running`, then starts claiming. */
  async start(recoverAll: boolean): Promise<void> {
    await this.outbox.recoverExpired(recoverAll ? Number.MAX_SAFE_INTEGER : this.options.clock.now());
    this.running = true;
    this.wake();
  }

  /**
   * Asks for a claim soon; cheap to call after every commit. Wake-ups within a couple of
   * milliseconds share one claim, so a busy worker claims in batches rather than per job.
   */
  wake(): void {
    if (!this.running) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = true;
    setTimeout(() => void this.claimLoop(), CLAIM_COALESCE_MS);
  }

  /** Stops claiming and waits for in-flight jobs to finish (or `timeoutMs`). */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    const drained = Promise.allSettled([...this.inFlight.values()]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  get busy(): number {
    return this.inFlight.size;
  }

  private async claimLoop(): Promise<void> {
    try {
      do {
        this.again = false;
        const free = this.options.concurrency - this.inFlight.size;
        if (free <= 0 || !this.running) break;
        const jobs = await this.outbox.claim(free, this.options.clock.now(), this.options.leaseMs);
        for (const job of jobs) this.launch(job);
        if (jobs.length === free) this.again = true;
      } while (this.again && this.running);
    } catch (error) {
      this.options.events?.onCrash?.(error);
    } finally {
      this.claiming = false;
      this.schedulePoll();
    }
  }

  private schedulePoll(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.options.pollMs);
    this.timer.unref();
  }

  private launch(job: Job): void {
    const started = this.options.clock.now();
    const run = this.runOne(job, started).finally(() => {
      this.inFlight.delete(job.id);
      this.wake();
    });
    this.inFlight.set(job.id, run);
  }

  private async runOne(job: Job, started: number): Promise<void> {
    try {
      await this.handlers[job.kind](job);
      this.options.events?.onDone?.(job, this.options.clock.now() - started);
    } catch (error) {
      try {
        await this.settleFailure(job, error);
      } catch (settleError) {
        // The store itself failed; the lease expiry brings the job back.
        this.options.events?.onCrash?.(settleError);
      }
    }
  }

  private async settleFailure(job: Job, error: unknown): Promise<void> {
    const decision = decideRetry(error, job, this.options.retry);
    const reason = describe(error);
    if (decision.action === 'park') {
      await this.outbox.park(job.id, reason);
      this.options.events?.onParked?.(job, error);
    } else {
      await this.outbox.reschedule(job.id, this.options.clock.now() + decision.delayMs, reason);
      this.options.events?.onRetry?.(job, error, decision.delayMs);
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2000);
  return String(error).slice(0, 2000);
}
