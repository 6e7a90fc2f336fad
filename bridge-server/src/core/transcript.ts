import type { Direction, EventKind } from './events.js';
import type { AttachmentRecord, ConversationRecord, EventRecord } from './records.js';
import { eventSender, renderEventBody } from './relay-mail.js';

/**
 * A conversation as a court reads it: one entry per archived event, in order, with who, when
 * (in a named zone), what kind of event, the text as the mails showed it, its files, and later
 * fates (edited, deleted for everyone) marked on the original. Pure: the export builds the HTML
 * and PDF from this.
 */

export interface TranscriptFile {
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Where the file is in the bundle. */
  path: string;
}

export interface TranscriptEntry {
  seq: number;
  waMessageId: string;
  kind: EventKind;
  direction: Direction;
  /** WhatsApp's time, ms since the epoch. */
  timestamp: number;
  sender: string;
  /** 'Message', 'Edited message', 'Deleted message', 'Reaction', … as the mails label them. */
  label: string;
  text: string;
  files: TranscriptFile[];
  /** Later events that changed how this message reads: "Edited 2 times later", "Deleted for everyone later". */
  marks: string[];
  /** The chain link of the archived event. */
  chainHash: string;
}

export interface TranscriptInput {
  record: EventRecord;
  attachments: Array<{ record: AttachmentRecord; content: Buffer }>;
  related?: EventRecord;
}

/** Every file an event's mail carried, hashed and placed in the bundle by `placeFile`. */
export type PlaceFile = (file: { fileName: string; contentType: string; content: Buffer }) => TranscriptFile;

export function buildTranscript(conversation: ConversationRecord, inputs: readonly TranscriptInput[], placeFile: PlaceFile): TranscriptEntry[] {
  const edits = new Map<string, number>();
  const deleted = new Set<string>();
  for (const { record } of inputs) {
    const event = record.event;
    if (event.kind === 'edit') edits.set(event.targetWaMessageId, (edits.get(event.targetWaMessageId) ?? 0) + 1);
    if (event.kind === 'deletion') deleted.add(event.targetWaMessageId);
  }
  return inputs.map(({ record, attachments, related }) => {
    const body = renderEventBody(record, attachments, related);
    const marks: string[] = [];
    if (record.kind === 'message') {
      const times = edits.get(record.waMessageId) ?? 0;
      if (times > 0) marks.push(times === 1 ? 'Edited once later' : `Edited ${times} times later`);
      if (deleted.has(record.waMessageId)) marks.push('Deleted for everyone later; kept here as received');
    }
    return {
      seq: record.seq,
      waMessageId: record.waMessageId,
      kind: record.kind,
      direction: record.direction,
      timestamp: record.timestamp,
      sender: eventSender(record, conversation),
      label: body.label,
      text: body.text,
      files: body.attachments.map((file) => placeFile(file)),
      marks,
      chainHash: record.chainHash,
    };
  });
}

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
