import { BadInputError } from './errors.js';

/**
 * Wall-clock times without a zone (what a chat export writes, PROTOCOLS.md 5.3) to instants, for
 * an IANA zone, with only the standard Intl API. A time that falls in a spring-forward gap is read
 * with the offset before the change (so it lands just after the gap); a time that occurs twice in
 * the autumn overlap is read as the first occurrence.
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

  /** Milliseconds since the epoch for "YYYY-MM-DDTHH:MM:SS" read in this zone. */
  toInstant(wall: string): number {
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
    // Offsets change on a few days a year: a day whose two ends share the offset is cached whole,
    // the hours of a changeover day one by one.
    const dayStart = asUtc - (asUtc % 86_400_000);
    if (this.offsetAt(dayStart - offset) === offset && this.offsetAt(dayStart + 86_399_999 - offset) === offset) {
      if (this.dayOffsets.size > 100_000) this.dayOffsets.clear();
      this.dayOffsets.set(dayKey, offset);
      return asUtc - offset;
    }
    const hourStart = asUtc - (asUtc % 3_600_000);
    if (this.offsetAt(hourStart - offset) === offset && this.offsetAt(hourStart + 3_599_999 - offset) === offset) {
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

/** The machine's own zone, the default when the person importing names none. */
export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
