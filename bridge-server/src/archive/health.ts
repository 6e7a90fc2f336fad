import { lastRecordedAt } from '../store/audit.js';
import { latestCheckpoint } from '../store/archive.js';
import type { Executor } from '../store/executor.js';
import { newestBackupAt } from './backup.js';

const day = 24 * 3_600_000;

/** The archive's repeating tasks, as the bridge runs them. */
export type ArchiveTaskName = 'checkpoint' | 'backup' | 'retention';

/** A repeating task of the archive: when it last did its work, and how often it should. */
export interface ArchiveTask {
  task: ArchiveTaskName;
  /** null: never yet. */
  lastRunAt: number | null;
  everyMs: number;
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
 * newest backup in the backup dir, the scheduled retention run's own audit entry.
 */
export async function archiveTasks(db: Executor, schedule: ArchiveSchedule): Promise<ArchiveTask[]> {
  const tasks: ArchiveTask[] = [{ task: 'checkpoint', lastRunAt: (await latestCheckpoint(db))?.createdAt ?? null, everyMs: schedule.checkpointEveryMs }];
  if (schedule.backupDir !== undefined) tasks.push({ task: 'backup', lastRunAt: (await newestBackupAt(schedule.backupDir)) ?? null, everyMs: day });
  if (schedule.retentionDaily) tasks.push({ task: 'retention', lastRunAt: (await lastRecordedAt(db, 'retention.delete', 'system')) ?? null, everyMs: day });
  return tasks;
}

/**
 * Whether the task is later than its interval and the margin allow. One that never ran is overdue
 * once the bridge has been up for the margin: the first run starts with the bridge.
 */
export function isOverdue(task: ArchiveTask, now: number, upSince: number, marginMs = overdueAfterMs): boolean {
  if (task.lastRunAt === null) return now - upSince > marginMs;
  return now - task.lastRunAt > task.everyMs + marginMs;
}
