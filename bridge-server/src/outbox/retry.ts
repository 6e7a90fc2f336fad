import { BadInputError, NotFoundError, OutcomeUnknownError, UpstreamError } from '../core/errors.js';
import type { Job } from '../core/records.js';

export type RetryDecision = { action: 'retry'; delayMs: number } | { action: 'park' };

export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Tries of a media download that keeps failing before it waits for a person; default 16. */
  mediaAttempts?: number;
  /**
   * The least wait before a WhatsApp send whose outcome is unknown is tried again, so that the
   * statuses of a message WhatsApp did take have come by then; default 30 s.
   */
  unknownSendDelayMs?: number;
}

/** Attempts after which a job that keeps failing for the same reason waits for a person. */
const attemptLimits = {
  // WhatsApp keeps webhook media for 7 days; 16 attempts at a 5-minute ceiling cover ~1 hour of
  // outage before an operator is asked, who can still retry within the 7 days.
  mediaTransient: 16,
  badInput: 5,
  unknown: 8,
};

/**
 * What to do with a job whose handler threw. The adapter that failed has already classified the
 * error (UpstreamError.retry); this only turns the class into a delay or a parking decision.
 * Transient mail failures retry forever (the job stays visible as pending with its last error).
 */
export function decideRetry(error: unknown, job: Job, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  const retry = (): RetryDecision => ({ action: 'retry', delayMs: backoff(job.attempts, policy, random) });
  if (error instanceof UpstreamError) {
    if (error.retry === 'permanent') return { action: 'park' };
    if (job.kind === 'media.fetch' && job.attempts >= (policy.mediaAttempts ?? attemptLimits.mediaTransient)) return { action: 'park' };
    if (job.kind === 'wa.send' && error instanceof OutcomeUnknownError) {
      return { action: 'retry', delayMs: Math.max(backoff(job.attempts, policy, random), policy.unknownSendDelayMs ?? 30_000) };
    }
    return retry();
  }
  if (error instanceof NotFoundError) return { action: 'park' };
  if (error instanceof BadInputError) return job.attempts >= attemptLimits.badInput ? { action: 'park' } : retry();
  return job.attempts >= attemptLimits.unknown ? { action: 'park' } : retry();
}

/** Exponential backoff with up to 20 % jitter, capped. `attempts` counts the one that just failed. */
export function backoff(attempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30);
  const capped = Math.min(exponential, policy.maxDelayMs);
  return Math.round(capped * (1 + 0.2 * random()));
}
