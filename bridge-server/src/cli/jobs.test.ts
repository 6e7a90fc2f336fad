import { describe, expect, it } from 'vitest';
import { countsLine, elapsed, jobLine } from './jobs.js';

describe('jobs list, as an operator reads it', () => {
  it('gives a span in its two largest units', () => {
    expect([0, 999, 45_000, 60_000, 723_000, 7_500_000, 86_400_000, 273_600_000, -5_000].map(elapsed)).toEqual(['0s', '0s', '45s', '1m 00s', '12m 03s', '2h 05m', '1d 00h', '3d 04h', '0s']);
  });

  it('shows how long a job has waited, when a pending one is tried next, and its last error', () => {
    const now = 1_800_000_000_000;
    const base = { kind: 'mail.relay' as const, attempts: 4, conversationId: 12, createdAt: now - 7_500_000, lastError: 'SMTP: connect ECONNREFUSED 127.0.0.1:25' };
    expect(jobLine({ ...base, id: 7, state: 'pending', runAt: now + 250_000 }, now)).toBe('7\tmail.relay\tpending\tattempts=4\tconversation=12\twaiting=2h 05m\tnext=in 4m 10s\tSMTP: connect ECONNREFUSED 127.0.0.1:25');
    expect(jobLine({ ...base, id: 8, state: 'pending', runAt: now - 1 }, now).split('\t')[6]).toBe('next=now');
    expect(jobLine({ ...base, id: 9, state: 'needs_attention', runAt: now, conversationId: null, lastError: null }, now)).toBe('9\tmail.relay\tneeds_attention\tattempts=4\tconversation=-\twaiting=2h 05m\t\t');
  });

  it('sums the outbox up by kind in words', () => {
    expect(countsLine({ 'mail.relay': { pending: 3, running: 1, needs_attention: 0 }, 'media.fetch': { pending: 0, running: 0, needs_attention: 2 } })).toBe(
      'mail.relay: 3 pending, 1 running, 0 waiting for attention; media.fetch: 0 pending, 0 running, 2 waiting for attention',
    );
  });
});
