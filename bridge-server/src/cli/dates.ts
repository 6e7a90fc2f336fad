import { BadInputError } from '../core/errors.js';

/** An ISO 8601 date or date-time from the command line, as ms since the epoch; a date alone is midnight UTC. */
export function parseIsoTime(option: string, value: string): number {
  const time = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new BadInputError('bad_date', `${option}: expected an ISO 8601 date such as 2026-01-31 or 2026-01-31T09:00:00Z, got ${JSON.stringify(value)}`);
  return time;
}
