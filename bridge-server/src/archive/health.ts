import { lastRecordedAt } from '../store/audit.js';
import { latestCheckpoint } from '../store/archive.js';
import type { Executor } from '../store/executor.js';
import { newestBackupAt, runningBackupSince } from './backup.js';

const day = 24 * 3_600_000;

/** The archive's repeating tasks, as the bridge runs them. */
export type ArchiveTaskName = 'checkpoint' | 'backup' | 'retention';

/** A repeating task of the archive: when it last did its work, and how often it should. */
export interface ArchiveTask {
  task: ArchiveTaskName;
  /** null: never yet. */
  lastRunAt: number | null;
  everyMs: number;
  /** When a run still going started (backups alone are followed so), else null. */
  runningSince: number | null;
}

/** Which tasks this bridge schedules: checkpoints always, backups with a backup dir, retention when daily. */
export interface ArchiveSchedule {
  checkpointEveryMs: number;
  backupDir?: string;
  retentionDaily: boolean;
}

/**
 * How late a task may be, by default, before it counts as overdue: a run takes time (a large
 * backup an hour or more, and a backup is timed from its start), and a bridge restarted late in an
 * interval runs it at start. WA_BRIDGE_ARCHIVE_OVERDUE_HOURS sets another.
 */
export const overdueAfterMs = 2 * 3_600_000;

/**
 * When each scheduled task last did its work, read from what the work leaves behind, so it holds
 * across restarts and instances and counts runs by the CLI too: the newest signed checkpoint, the
 * newest backup in the backup dir, the scheduled retention run's own audit entry. A backup being
 * made into the backup dir, by any process, shows as running from its marker there.
 */
export async function archiveTasks(db: Executor, schedule: ArchiveSchedule): Promise<ArchiveTask[]> {
  const tasks: ArchiveTask[] = [{ task: 'checkpoint', lastRunAt: (await latestCheckpoint(db))?.createdAt ?? null, everyMs: schedule.checkpointEveryMs, runningSince: null }];
  if (schedule.backupDir !== undefined) {
    tasks.push({ task: 'backup', lastRunAt: (await newestBackupAt(schedule.backupDir)) ?? null, everyMs: day, runningSince: (await runningBackupSince(schedule.backupDir)) ?? null });
  }
  if (schedule.retentionDaily) tasks.push({ task: 'retention', lastRunAt: (await lastRecordedAt(db, 'retention.delete', 'system')) ?? null, everyMs: day, runningSince: null });
  return tasks;
}

/**
 * Whether the task is later than its interval and the margin allow. One that never ran is overdue
 * once the bridge has been up for the margin: the first run starts with the bridge. A run still
 * going holds that off for as long as the task's interval from its start: a backup that takes
 * longer than the margin is not late, one going for a whole day is stuck.
 */
export function isOverdue(task: ArchiveTask, now: number, upSince: number, marginMs = overdueAfterMs): boolean {
  if (task.runningSince !== null && now - task.runningSince <= task.everyMs) return false;
  if (task.lastRunAt === null) return now - upSince > marginMs;
  return now - task.lastRunAt > task.everyMs + marginMs;
}
