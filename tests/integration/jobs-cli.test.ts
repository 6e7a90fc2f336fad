import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../../bridge-server/src/store/audit.js';
import { enqueue, SqlOutbox } from '../../bridge-server/src/store/outbox.js';
import { runWaBridge } from '../support/cli.js';
import { openTestDatabase } from '../support/test-database.js';

/** `wa-bridge jobs`, as an operator runs it on the bridge's host. */
describe('wa-bridge jobs', () => {
  let dir: string;
  let parked: number;
  let pending: number;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wa-jobs-cli-'));
    const opened = await openTestDatabase(dir);
    try {
      const now = Date.now();
      parked = await enqueue(opened.db, { kind: 'mail.relay', payload: { conversationId: 1, eventId: 1 }, conversationId: null, sortKey: 1, runAt: now + 3_600_000 }, now);
      pending = await enqueue(opened.db, { kind: 'mail.relay', payload: { conversationId: 1, eventId: 2 }, conversationId: null, sortKey: 2, runAt: now + 3_600_000 }, now);
      await new SqlOutbox(opened.db).park(parked, 'SMTP refused the mail (550)');
    } finally {
      await opened.close();
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const audited = async () => {
    const opened = await openTestDatabase(dir);
    try {
      return await queryAudit(opened.db, { action: 'jobs.retry', afterId: 0, limit: 100 });
    } finally {
      await opened.close();
    }
  };

  it('lists the jobs in the states asked for', async () => {
    const listed = await runWaBridge(dir, ['jobs', 'list', '--state', 'needs_attention']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toMatch(new RegExp(`^${parked}\\tmail\\.relay\\tneeds_attention\\t.*SMTP refused`));
    expect(listed.stdout).not.toMatch(new RegExp(`^${pending}\\t`, 'm'));
    // The whole outbox in words after the list, whatever the states asked for.
    expect(listed.stdout.trim().split('\n').at(-1)).toBe('mail.relay: 1 pending, 0 running, 1 waiting for attention; media.fetch: 0 pending, 0 running, 0 waiting for attention; wa.send: 0 pending, 0 running, 0 waiting for attention; mail.notice: 0 pending, 0 running, 0 waiting for attention');
  });

  it('says how long a pending job has waited and when it is tried next, and says so when no job is in the states asked for', async () => {
    const listed = await runWaBridge(dir, ['jobs', 'list', '--state', 'pending']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    // Queued a moment ago, to be tried an hour after that.
    expect(listed.stdout).toMatch(new RegExp(`^${pending}\\tmail\\.relay\\tpending\\tattempts=0\\tconversation=-\\twaiting=\\d+s\\tnext=in 59m \\d\\ds\\t\n`));
    const none = await runWaBridge(dir, ['jobs', 'list', '--state', 'running']);
    expect(none.stdout.split('\n')[0]).toBe('No job is running.');
    const json = await runWaBridge(dir, ['jobs', 'list', '--state', 'running', '--json']);
    expect(json).toMatchObject({ code: 0, stdout: '' });
  });

  it('refuses an unknown state with one line listing the valid ones, and the usage exit code', async () => {
    for (const state of ['bogus', 'pending,bogus', '']) {
      const result = await runWaBridge(dir, ['jobs', 'list', '--state', state]);
      expect(result.code, state).toBe(2);
      expect(result.stdout, state).toBe('');
      expect(result.stderr, state).toMatch(/^wa-bridge: --state: unknown job state "[^"]*"; expected one or more of pending, running, needs_attention \(comma-separated\)\n$/);
    }
  });

  it('refuses a retry of an id that is not a number, names no job or names one not waiting, and queues nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['abc'], /^wa-bridge: not a job id: "abc" /],
      [['0'], /^wa-bridge: not a job id: "0" /],
      [['999'], /^wa-bridge: no job 999 in the outbox /],
      [[String(parked), '999'], /^wa-bridge: no job 999 in the outbox /],
      [[String(pending)], new RegExp(`^wa-bridge: job ${pending} is pending, not waiting for attention`)],
    ];
    for (const [ids, message] of cases) {
      const result = await runWaBridge(dir, ['jobs', 'retry', ...ids]);
      expect(result.code, ids.join(' ')).toBe(2);
      expect(result.stdout, ids.join(' ')).toBe('');
      expect(result.stderr, ids.join(' ')).toMatch(message);
      expect(result.stderr.trim().split('\n'), ids.join(' ')).toHaveLength(1);
    }
    const still = await runWaBridge(dir, ['jobs', 'list', '--state', 'needs_attention', '--json']);
    expect(still.stdout).toContain(`"id":${parked}`);
    expect(await audited()).toEqual([]);
  });

  it('queues a parked job again and records that in the audit trail', async () => {
    const retried = await runWaBridge(dir, ['jobs', 'retry', String(parked)]);
    expect(retried).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(/^1 job\(s\) queued again/) });
    expect(await audited()).toEqual([expect.objectContaining({ action: 'jobs.retry', target: `job:${parked}`, actor: expect.stringMatching(/^cli:/), source: expect.stringMatching(/^cli@/) })]);

    const all = await runWaBridge(dir, ['jobs', 'retry']);
    expect(all).toMatchObject({ code: 0, stdout: expect.stringMatching(/^0 job\(s\) queued again/) });
    expect((await audited()).at(-1)).toMatchObject({ action: 'jobs.retry', details: { count: 0 } });
  });
});
