import { describe, expect, it } from 'vitest';
import { BadInputError, NotFoundError, OutcomeUnknownError, UpstreamError } from '../core/errors.js';
import type { Job, JobKind } from '../core/records.js';
import { backoff, decideRetry, type RetryPolicy } from './retry.js';

const policy: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 300_000 };
const job = (kind: JobKind, attempts: number): Job => ({ id: 1, kind, payload: {} as never, conversationId: 7, sortKey: 1, state: 'running', attempts, runAt: 0, lastError: null, createdAt: 0 }) as Job;
const transient = new UpstreamError('smtp', 'connection refused', 'transient', 'ECONNREFUSED');
const noJitter = () => 0;

describe('decideRetry', () => {
  it('retries a transient mail failure for ever, backing off to the ceiling', () => {
    for (const attempts of [1, 2, 16, 1_000]) expect(decideRetry(transient, job('mail.relay', attempts), policy, noJitter)).toEqual({ action: 'retry', delayMs: backoff(attempts, policy, noJitter) });
    expect(decideRetry(transient, job('mail.relay', 1_000), policy, noJitter)).toEqual({ action: 'retry', delayMs: 300_000 });
  });

  it('parks a media download after its 16th failed try, or after the tries the policy gives', () => {
    const media = new UpstreamError('cloud-api-media', 'no data for 30000 ms', 'transient');
    expect(decideRetry(media, job('media.fetch', 15), policy).action).toBe('retry');
    expect(decideRetry(media, job('media.fetch', 16), policy)).toEqual({ action: 'park' });
    expect(decideRetry(media, job('media.fetch', 5), { ...policy, mediaAttempts: 6 }).action).toBe('retry');
    expect(decideRetry(media, job('media.fetch', 6), { ...policy, mediaAttempts: 6 })).toEqual({ action: 'park' });
    // The limit is the media's alone: a mail failing the same way still retries.
    expect(decideRetry(media, job('mail.relay', 100), { ...policy, mediaAttempts: 6 }).action).toBe('retry');
  });

  it('waits at least 30 s, or what the policy says, before sending again what WhatsApp may already have', () => {
    const unknown = new OutcomeUnknownError('whatsapp', 'the connection closed before the answer');
    expect(decideRetry(unknown, job('wa.send', 1), policy, noJitter)).toEqual({ action: 'retry', delayMs: 30_000 });
    expect(decideRetry(unknown, job('wa.send', 1), { ...policy, unknownSendDelayMs: 500 }, noJitter)).toEqual({ action: 'retry', delayMs: 1000 });
    expect(decideRetry(unknown, job('wa.send', 7), policy, noJitter)).toEqual({ action: 'retry', delayMs: 64_000 });
    // A send that surely did not go, and any other job, back off as usual.
    expect(decideRetry(transient, job('wa.send', 1), policy, noJitter)).toEqual({ action: 'retry', delayMs: 1000 });
    expect(decideRetry(unknown, job('mail.notice', 1), policy, noJitter)).toEqual({ action: 'retry', delayMs: 1000 });
  });

  it('parks a permanent failure and a missing record at once, bad input after 5 tries and anything else after 8', () => {
    expect(decideRetry(new UpstreamError('smtp', '550 no such mailbox', 'permanent', 550), job('mail.relay', 1), policy)).toEqual({ action: 'park' });
    expect(decideRetry(new NotFoundError('no such event'), job('mail.relay', 1), policy)).toEqual({ action: 'park' });
    expect(decideRetry(new BadInputError('header_injection', 'CR/LF'), job('mail.relay', 4), policy).action).toBe('retry');
    expect(decideRetry(new BadInputError('header_injection', 'CR/LF'), job('mail.relay', 5), policy)).toEqual({ action: 'park' });
    expect(decideRetry(new Error('disk I/O error'), job('mail.relay', 7), policy).action).toBe('retry');
    expect(decideRetry(new Error('disk I/O error'), job('mail.relay', 8), policy)).toEqual({ action: 'park' });
  });

  it('backs off exponentially from the base, with at most a fifth of jitter, up to the ceiling', () => {
    expect([1, 2, 3, 4].map((attempts) => backoff(attempts, policy, noJitter))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoff(3, policy, () => 1)).toBe(4800);
    expect(backoff(40, policy, () => 1)).toBe(360_000);
  });
});
