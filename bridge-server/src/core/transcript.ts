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

/** The mark on every message of an imported chat export (the conversation's head names the file). */
export const importedMark = 'Imported from a chat export (above); time as the export gave it';

export function buildTranscript(conversation: ConversationRecord, inputs: readonly TranscriptInput[], placeFile: PlaceFile, timeZone: string): TranscriptEntry[] {
  const edits = new Map<string, number>();
  const deleted = new Set<string>();
  for (const { record } of inputs) {
    const event = record.event;
    if (event.kind === 'edit') edits.set(event.targetWaMessageId, (edits.get(event.targetWaMessageId) ?? 0) + 1);
    if (event.kind === 'deletion') deleted.add(event.targetWaMessageId);
  }
  return inputs.map(({ record, attachments, related }) => {
    const body = renderEventBody(record, attachments, related, timeZone);
    const marks: string[] = [];
    if (record.kind === 'message') {
      const times = edits.get(record.waMessageId) ?? 0;
      if (times > 0) marks.push(times === 1 ? 'Edited once later' : `Edited ${times} times later`);
      if (deleted.has(record.waMessageId)) marks.push('Deleted for everyone later; kept here as received');
    }
    // Live events came from WhatsApp's servers; these from a file a phone wrote, with its times.
    // Said in full once per import at the head of the conversation; here short enough for one line.
    if (record.channel === 'chat-export') marks.push(importedMark);
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
