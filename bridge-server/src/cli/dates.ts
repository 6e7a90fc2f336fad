import { BadInputError } from '../core/errors.js';
import { WallClock } from '../core/wall-time.js';
import { isKnownTimeZone } from '../core/zoned-time.js';

/**
 * An ISO 8601 date or date-time from the command line, as ms since the epoch. One without a zone
 * (a date alone is its midnight) is read in `timeZone` when given, the zone the person is working
 * in: "--from 2026-03-15" with --timezone America/Los_Angeles starts at midnight there, not in
 * UTC. Without `timeZone` it is UTC.
 */
export function parseIsoTime(option: string, value: string, timeZone?: string): number {
  const match = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2})?)(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})?)?$/.exec(value);
  let time = match ? Date.parse(value) : Number.NaN;
  if (match && !Number.isNaN(time) && match[4] === undefined && timeZone !== undefined) {
    const clock = match[2] === undefined ? '00:00:00' : match[2].length === 5 ? `${match[2]}:00` : match[2];
    time = new WallClock(timeZone).toInstant(`${match[1]}T${clock}`) + Math.round(Number(match[3] ?? 0) * 1000);
  }
  if (Number.isNaN(time)) throw new BadInputError('bad_date', `${option}: expected an ISO 8601 date such as 2026-01-31 or 2026-01-31T09:00:00Z, got ${JSON.stringify(value)}`);
  return time;
}

/** `--timezone` as given, or the configured zone when it was left out; a name Intl does not know is refused. */
export function chosenTimeZone(given: string | undefined, configured: string): string {
  if (given !== undefined && !isKnownTimeZone(given)) throw new BadInputError('bad_timezone', `--timezone: ${JSON.stringify(given)} is not a time zone name such as Europe/London`);
  return given ?? configured;
}
