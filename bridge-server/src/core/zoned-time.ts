/**
 * Times as people read them: the wall time in a named zone, always with its offset. Mirrored
 * mails and evidence transcripts show every time this way.
 */

/**
 * "2026-11-25 15:20:15 GMT+01:00": the wall time in `timeZone` with its offset, so a reader
 * never has to guess the zone.
 */
export function formatZonedTime(timestamp: number, timeZone: string): string {
  const offset = offsetAround(timestamp, timeZone);
  const wall = offset === undefined ? undefined : new Date(timestamp + offset.ms);
  if (offset === undefined || wall === undefined || wall.getUTCFullYear() < 1000 || wall.getUTCFullYear() > 9999) return formatWithParts(timestamp, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${wall.getUTCFullYear()}-${two(wall.getUTCMonth() + 1)}-${two(wall.getUTCDate())} ${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())}:${two(wall.getUTCSeconds())} ${offset.text}`;
}

function formatWithParts(timestamp: number, timeZone: string): string {
  const parts = zonedFormatter(timeZone).formatToParts(new Date(timestamp));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const offset = part('timeZoneName') === 'GMT' ? 'GMT+00:00' : part('timeZoneName');
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')} ${offset}`;
}

/** One formatter per zone: making one costs far more than formatting a time with it. */
const zonedFormatters = new Map<string, Intl.DateTimeFormat>();
function zonedFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = zonedFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' });
    zonedFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * A transcript formats every time of a conversation, and asking Intl for each is most of what a
 * long export spends on times. Zones change their offset at whole quarter hours (UTC), so the
 * offset is looked up once per quarter hour and kept when it is the same at both ends of it; a
 * quarter hour with a change in it, or an offset with seconds (local mean time of old dates),
 * is formatted by Intl time by time.
 */
const quarterHour = 15 * 60 * 1000;
const offsets = new Map<string, { ms: number; text: string } | null>();
function offsetAround(timestamp: number, timeZone: string): { ms: number; text: string } | undefined {
  const quarter = Math.floor(timestamp / quarterHour);
  const key = `${timeZone} ${quarter}`;
  let found = offsets.get(key);
  if (found === undefined) {
    const start = offsetName(quarter * quarterHour, timeZone);
    const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(start);
    found = match && offsetName((quarter + 1) * quarterHour - 1, timeZone) === start ? { ms: (match[1] === '-' ? -1 : 1) * (Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 60_000, text: match[1] ? start : 'GMT+00:00' } : null;
    if (offsets.size >= 100_000) offsets.clear();
    offsets.set(key, found);
  }
  return found ?? undefined;
}

function offsetName(timestamp: number, timeZone: string): string {
  return zonedFormatter(timeZone).formatToParts(new Date(timestamp)).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

/** True when `timeZone` is a zone name this runtime knows (e.g. Europe/London). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
}
