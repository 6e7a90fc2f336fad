import { scheduleRepeating, type Repeat, type RepeatingTask, type Schedule } from '../archive/schedule.js';
import type { Logger } from './logger.js';

/** pg-boss's own tables live in this schema of the bridge's database. */
export const jobsSchema = 'wa_bridge_jobs';

const day = 24 * 60 * 60 * 1000;

/** How long one run may take before pg-boss counts it as failed and runs it again elsewhere. */
const runLimitSeconds = 6 * 60 * 60;

export interface SharedSchedules {
  repeat: Repeat;
  stop(): Promise<void>;
}

/**
 * The archive's repeating tasks (checkpoints, retention, backups) once among all bridge instances
 * on one PostgreSQL database, through pg-boss. Every instance keeps its own timer, but a tick only
 * sends a job: pg-boss keeps one job per task and interval (a singleton slot), its queue runs
 * one job of a task at a time on whichever instance fetches it first, and a run that fails or
 * whose instance dies is retried, on any instance. The job asks the task whether it is due before
 * running, so the rare second job of an interval (ticks on either side of a slot's edge) does
 * nothing.
 *
 * The per-conversation jobs (relay, media, sends) stay in the store's outbox: they must run in
 * their conversation's order, one at a time per conversation, and pg-boss's singleton queues let
 * one busy key hold back the fetch of every other (see docs/deploy.md).
 */
export async function startSharedSchedules(url: string, logger: Logger): Promise<SharedSchedules> {
  const { default: PgBoss } = await import('pg-boss');
  // Finished jobs stay in the job table (where the one-per-interval rule is kept) for two days,
  // longer than the longest interval (a day).
  const boss = new PgBoss({ connectionString: url, schema: jobsSchema, max: 2, application_name: 'wa-bridge scheduled tasks', schedule: false, archiveCompletedAfterSeconds: 2 * day / 1000 });
  boss.on('error', (error) => logger.error({ err: error }, 'scheduled tasks on pg-boss: the database failed; the next tick tries again'));
  await boss.start();
  const schedules: Schedule[] = [];

  const repeat: Repeat = (name: string, task: RepeatingTask): Schedule => {
    const queue = `wa-bridge.${name}`;
    const intervalSeconds = Math.max(1, Math.floor(Math.min(task.intervalMs, day) / 1000));
    let workerId: string | undefined;
    const setUp = async (): Promise<void> => {
      // Instances starting together create the same queue at once, which PostgreSQL may answer
      // with a deadlock for all but one: the queue then exists, or the next attempt makes it.
      for (let attempt = 1; ; attempt += 1) {
        try {
          await boss.createQueue(queue, { name: queue, policy: 'singleton', retryLimit: 5, retryDelay: 60, retryBackoff: true, expireInSeconds: runLimitSeconds });
          break;
        } catch (error) {
          if (await boss.getQueue(queue)) break;
          if (attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200 * attempt));
        }
      }
      workerId = await boss.work(queue, { pollingIntervalSeconds: Math.min(30, Math.max(1, Math.floor(intervalSeconds / 4))), batchSize: 1 }, async () => {
        try {
          if (await task.isDue()) await task.run();
        } catch (error) {
          task.onError(error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
      });
    };
    // Set up on the first tick, and again on the next when that failed (the database was away).
    let ready: Promise<void> | undefined;
    const prepare = (): Promise<void> =>
      (ready ??= setUp().catch((error: unknown) => {
        ready = undefined;
        throw error;
      }));
    const ticks = scheduleRepeating({
      intervalMs: task.intervalMs,
      isDue: task.isDue,
      run: async () => {
        await prepare();
        // A job for this interval unless another instance sent it already; this instance's worker
        // looks at once rather than at its next poll.
        await boss.send(queue, {}, { singletonKey: name, singletonSeconds: intervalSeconds });
        if (workerId) boss.notifyWorker(workerId);
      },
      onError: task.onError,
    });
    schedules.push(ticks);
    return ticks;
  };

  return {
    repeat,
    async stop() {
      await Promise.all(schedules.map((schedule) => schedule.stop()));
      // Waits for a run in progress here; pg-boss gives back what it cannot finish.
      await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
    },
  };
}
