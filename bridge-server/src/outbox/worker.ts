import { RunsElsewhereError } from '../core/errors.js';
import type { Clock, Outbox } from '../core/ports.js';
import type { Job, JobKind } from '../core/records.js';
import { decideRetry, type RetryPolicy } from './retry.js';

export type JobHandler = (job: Job) => Promise<void>;

/**
 * How a run of jobs went: the first `done` jobs are finished (the handler completed them in the
 * store); when `error` is set, job number `done` failed with it and the jobs after it were not tried.
 * Without an error, jobs after `done` were not tried (the handler ended the run early) and are
 * given back as they were.
 */
export interface RunResult {
  done: number;
  error?: unknown;
}

/** Runs several consecutive jobs of one lane, in order, stopping at the first failure. */
export type RunHandler = (jobs: Job[]) => Promise<RunResult>;

/** The outbox as the worker drives it: the port, plus claims of runs and giving untried jobs back. */
export interface RunOutbox extends Outbox {
  claimRuns(limit: number, now: number, leaseMs: number, maxRun: number, runKinds: readonly JobKind[]): Promise<Job[][]>;
  release(jobIds: readonly number[]): Promise<void>;
  /** Extends the claim on jobs this worker still runs. */
  renew(jobIds: readonly number[], lockedUntil: number): Promise<void>;
  /** Gives a claimed job back untried, due again at `runAt`, with the reason recorded. */
  defer(jobId: number, runAt: number, reason: string): Promise<void>;
}

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
  /**
   * How long a claim holds without renewal. A running worker renews its claims every third of
   * it, so only the claims of a worker that died (or hung that long) run out; any worker on the
   * store then takes those jobs back.
   */
  leaseMs: number;
  /** How often to look for due jobs when nothing wakes the worker (backoff expiry, other writers). */
  pollMs: number;
  retry: RetryPolicy;
  clock: Clock;
  events?: WorkerEvents;
  /** Kinds whose queued jobs run several at a time through one handler call, and how many at most. */
  runs?: { handlers: Partial<Record<JobKind, RunHandler>>; maxLength: number };
}

/**
 * Runs outbox jobs after their transaction committed: claims up to `concurrency` due jobs (the
 * outbox guarantees one running job per conversation), runs each kind's handler, and turns a
 * failure into a delayed retry or a parked job. `wake()` after a commit makes new jobs start at
 * once; a poll catches everything else.
 */
export class OutboxWorker {
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Every job id of the runs in flight (a run holds several). */
  private readonly held = new Set<number>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private running = false;
  private claiming = false;
  /** The claim loop and the lease upkeep running now, if any: stop() waits for both, so neither outlives the worker. */
  private claimLoopRun: Promise<void> | undefined;
  private leaseRun: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outbox: RunOutbox,
    private readonly handlers: JobHandlers,
    private readonly options: WorkerOptions,
  ) {}

  /**
   * Recovers jobs a crashed run left `running`, then starts claiming. `recoverAll` takes back
   * every running job at once, right only when no other worker shares the store; otherwise only
   * claims that ran out are taken back, now and every third of a lease from then on.
   */
  async start(recoverAll: boolean): Promise<void> {
    await this.outbox.recoverExpired(recoverAll ? Number.MAX_SAFE_INTEGER : this.options.clock.now());
    this.running = true;
    this.leaseTimer = setInterval(() => {
      this.leaseRun = this.keepLeases();
    }, Math.max(1000, Math.floor(this.options.leaseMs / 3)));
    this.leaseTimer.unref();
    this.wake();
  }

  private async keepLeases(): Promise<void> {
    try {
      const now = this.options.clock.now();
      if (this.held.size > 0) await this.outbox.renew([...this.held], now + this.options.leaseMs);
      if ((await this.outbox.recoverExpired(now)) > 0) this.wake();
    } catch (error) {
      this.options.events?.onCrash?.(error);
    }
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
    setTimeout(() => {
      this.claimLoopRun = this.claimLoop();
    }, CLAIM_COALESCE_MS);
  }

  /**
   * Stops claiming and waits for in-flight jobs to finish (or `timeoutMs`). A claim made while
   * stopping is given back untried, so a stopped worker leaves no job claimed that it will not run.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    const drained = (async () => {
      await Promise.all([this.claimLoopRun, this.leaseRun]);
      await Promise.allSettled([...this.inFlight.values()]);
    })();
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
        const runs = this.options.runs;
        const claimed = runs
          ? await this.outbox.claimRuns(free, this.options.clock.now(), this.options.leaseMs, runs.maxLength, Object.keys(runs.handlers) as JobKind[])
          : (await this.outbox.claim(free, this.options.clock.now(), this.options.leaseMs)).map((job) => [job]);
        if (!this.running) {
          // Stopped during the claim: the jobs go back as they were, for the next start or another instance.
          await this.outbox.release(claimed.flat().map((job) => job.id));
          break;
        }
        for (const run of claimed) this.launch(run);
        if (claimed.length === free) this.again = true;
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

  private launch(jobs: Job[]): void {
    const head = jobs[0]!;
    const started = this.options.clock.now();
    const runHandler = jobs.length > 1 ? this.options.runs?.handlers[head.kind] : undefined;
    for (const job of jobs) this.held.add(job.id);
    const work = runHandler ? this.runMany(runHandler, jobs, started) : this.runOne(head, started);
    const run = work.finally(() => {
      for (const job of jobs) this.held.delete(job.id);
      this.inFlight.delete(head.id);
      this.wake();
    });
    this.inFlight.set(head.id, run);
  }

  private async runMany(handler: RunHandler, jobs: Job[], started: number): Promise<void> {
    let result: RunResult;
    try {
      result = await handler(jobs);
    } catch (error) {
      result = { done: 0, error };
    }
    const finished = this.options.clock.now() - started;
    for (const job of jobs.slice(0, result.done)) this.options.events?.onDone?.(job, finished);
    if (!('error' in result) && result.done >= jobs.length) return;
    const failed = 'error' in result ? jobs[result.done] : undefined;
    const untried = jobs.slice(result.done + (failed ? 1 : 0));
    try {
      // The failed job goes back first: its lane's order keeps the untried ones behind it.
      if (failed) await this.settleFailure(failed, result.error);
      await this.outbox.release(untried.map((job) => job.id));
    } catch (settleError) {
      this.options.events?.onCrash?.(settleError);
    }
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
    if (error instanceof RunsElsewhereError) {
      // Another instance owns what the job needs: this instance looks again a poll later, and
      // the owner takes the job on its own next claim. No attempt is used up.
      await this.outbox.defer(job.id, this.options.clock.now() + this.options.pollMs, describe(error));
      return;
    }
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
