import { BadInputError } from './errors.js';

/**
 * A wall time that a change of the zone's clocks makes missing (`gap`: the clocks went forward
 * over it) or double (`overlap`: they went back over it), and how WallClock read it.
 */
export interface ClockChange {
  kind: 'gap' | 'overlap';
  /** As given: YYYY-MM-DDTHH:MM:SS. */
  wall: string;
  instant: number;
  /** The offset from UTC (ms) it was read with, and the zone's other offset that night. */
  offset: number;
  otherOffset: number;
}

/**
 * Wall-clock times without a zone (what a chat export writes, PROTOCOLS.md 5.3) to instants, for
 * an IANA zone, with only the standard Intl API. A time that falls in a spring-forward gap is read
 * with the offset before the change (so it lands just after the gap); a time that occurs twice in
 * the autumn overlap is read as the first occurrence. Either is told to `onClockChange`.
 */
export class WallClock {
  private readonly format: Intl.DateTimeFormat;
  /** Offset per wall day ("2024-01-31") and hour ("2024-01-31T13") that hold no offset change. */
  private readonly dayOffsets = new Map<string, number>();
  private readonly hourOffsets = new Map<string, number>();

  constructor(readonly timeZone: string) {
    try {
      this.format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new BadInputError('bad_time_zone', `--timezone: ${JSON.stringify(timeZone)} is not an IANA time zone such as Europe/London`);
    }
  }

  /**
   * Milliseconds since the epoch for "YYYY-MM-DDTHH:MM:SS" read in this zone; `onClockChange` is
   * told when the time does not exist or exists twice there.
   */
  toInstant(wall: string, onClockChange?: (change: ClockChange) => void): number {
    const asUtc = Date.UTC(+wall.slice(0, 4), +wall.slice(5, 7) - 1, +wall.slice(8, 10), +wall.slice(11, 13), +wall.slice(14, 16), +wall.slice(17, 19));
    const dayKey = wall.slice(0, 10);
    const day = this.dayOffsets.get(dayKey);
    if (day !== undefined) return asUtc - day;
    const hourKey = wall.slice(0, 13);
    const cached = this.hourOffsets.get(hourKey);
    if (cached !== undefined) return asUtc - cached;
    // The offsets a day either side bracket any change near this time (zones change at most once
    // a day). Both readings valid: an overlap, take the first occurrence. Neither: a gap, read
    // with the offset before the change, which lands just after the gap.
    const early = this.offsetAt(asUtc - 86_400_000);
    const late = this.offsetAt(asUtc + 86_400_000);
    const earlyValid = this.offsetAt(asUtc - early) === early;
    const lateValid = this.offsetAt(asUtc - late) === late;
    const offset = earlyValid && lateValid ? Math.max(early, late) : lateValid ? late : early;
    if (early !== late && earlyValid === lateValid) {
      onClockChange?.({ kind: earlyValid ? 'overlap' : 'gap', wall, instant: asUtc - offset, offset, otherOffset: offset === early ? late : early });
      // Never cached: every such time is told.
      return asUtc - offset;
    }
    // Offsets change on a few days a year: a day whose start and end (the next midnight) share the
    // offset is cached whole, the hours of a changeover day one by one. Taking the end as the next
    // midnight keeps out a day whose clocks go back at midnight, whose last hour comes twice.
    const dayStart = asUtc - (asUtc % 86_400_000);
    if (this.offsetAt(dayStart - offset) === offset && this.offsetAt(dayStart + 86_400_000 - offset) === offset) {
      if (this.dayOffsets.size > 100_000) this.dayOffsets.clear();
      this.dayOffsets.set(dayKey, offset);
      return asUtc - offset;
    }
    const hourStart = asUtc - (asUtc % 3_600_000);
    if (this.offsetAt(hourStart - offset) === offset && this.offsetAt(hourStart + 3_600_000 - offset) === offset) {
      if (this.hourOffsets.size > 100_000) this.hourOffsets.clear();
      this.hourOffsets.set(hourKey, offset);
    }
    return asUtc - offset;
  }

  /** The zone's offset from UTC in milliseconds at an instant. */
  private offsetAt(instant: number): number {
    const parts = this.format.formatToParts(new Date(instant));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return local - (instant - (instant % 1000));
  }
}

/** The clock changes an import met: how many of each, and the first few with their lines. */
export interface ClockChangeSummary {
  total: number;
  gaps: number;
  overlaps: number;
  first: Array<ClockChange & { line: number }>;
}

/** How many clock changes an import words one by one; past that, a count comes first. */
export const CLOCK_CHANGES_WORDED = 5;

/**
 * What the person importing is told about times a clock change made missing or double: a line per
 * time, naming the export's line, or for more than CLOCK_CHANGES_WORDED a count and the first few.
 */
export function clockChangeWarnings(summary: ClockChangeSummary, timeZone: string): string[] {
  const lines = summary.first.slice(0, CLOCK_CHANGES_WORDED).map((change) => describeClockChange(change, timeZone));
  if (summary.total <= lines.length) return lines;
  const parts = [
    ...(summary.gaps > 0 ? [`${summary.gaps} ${summary.gaps === 1 ? 'does' : 'do'} not exist (read as just after the gap)`] : []),
    ...(summary.overlaps > 0 ? [`${summary.overlaps} ${summary.overlaps === 1 ? 'occurs' : 'occur'} twice (read as the first)`] : []),
  ];
  return [`${summary.total} message times fall in a clock change in ${timeZone}: ${parts.join(', ')}; the first ${lines.length}:`, ...lines];
}

/** One line for one time in a clock change: where it is, what is wrong with it, how it was read. */
export function describeClockChange(change: ClockChange & { line: number }, timeZone: string): string {
  const [day, time] = change.wall.split('T') as [string, string];
  const shift = duration(Math.abs(change.offset - change.otherOffset));
  const utc = new Date(change.instant).toISOString().replace('.000Z', 'Z');
  if (change.kind === 'gap') {
    // The clocks after the gap show the time as read: the wall time moved on by the change.
    const after = new Date(change.instant + change.otherOffset).toISOString();
    const shown = after.slice(0, 10) === day ? after.slice(11, 19) : `${after.slice(0, 10)} ${after.slice(11, 19)}`;
    return `line ${change.line}: ${day} ${time} does not exist in ${timeZone} (the clocks went forward ${shift}); read as ${shown} ${utcOffset(change.otherOffset)} (${utc}), just after the gap`;
  }
  const second = new Date(change.instant + change.offset - change.otherOffset).toISOString().replace('.000Z', 'Z');
  return `line ${change.line}: ${day} ${time} occurs twice in ${timeZone} (the clocks went back ${shift}); read as the first, ${utcOffset(change.offset)} (${utc}), not the second, ${utcOffset(change.otherOffset)} (${second})`;
}

/** An offset from UTC in ms as "UTC+01:00". */
function utcOffset(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  return `UTC${ms < 0 ? '-' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** A shift of the clocks in words: "1 hour", "30 minutes", "1 hour 30 minutes". */
function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const words = [...(hours > 0 ? [`${hours} hour${hours === 1 ? '' : 's'}`] : []), ...(rest > 0 ? [`${rest} minute${rest === 1 ? '' : 's'}`] : [])];
  return words.join(' ');
}

/** The machine's own zone, the default when the person importing names none. */
export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
