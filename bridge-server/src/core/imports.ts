import type { Tx } from './ports.js';

/** One import of a chat-export file, recorded before its first message is stored. */
export interface ImportRecord {
  id: number;
  conversationId: number;
  sourceSha256: string;
  sourceName: string;
  sourceSize: number;
  sourceKind: 'txt' | 'zip';
  timeZone: string;
  dateOrder: string;
  firmAuthors: string[];
  importedBy: string;
  mirrored: boolean;
  state: 'running' | 'complete';
  startedAt: number;
  finishedAt: number | null;
  counts: ImportCounts;
}

/** One event row of a group stored at once: what the events table holds, chain link included. */
export interface ImportedEventRow {
  seq: number;
  channel: string;
  waMessageId: string;
  kind: string;
  versionKey: string;
  direction: string;
  contentType: string | null;
  timestamp: number;
  eventJson: string;
  chainHash: string;
  receivedAt: number;
}

export interface ImportCounts {
  messages: number;
  added: number;
  duplicates: number;
  mediaLinked: number;
  mediaMissing: number;
  firstMessageAt: number | null;
  lastMessageAt: number | null;
}

export type NewImport = Omit<ImportRecord, 'id' | 'state' | 'finishedAt' | 'counts'>;

/** What the import flow needs beyond the Store port: its own evidence rows. */
export interface ImportStore {
  beginImport(tx: Tx, record: NewImport): Promise<number>;
  /** Which of these message ids of the channel are stored already (one query for a group). */
  existingMessageIds(tx: Tx, channel: string, waMessageIds: string[]): Promise<Set<string>>;
  /** Records the final counts and marks the import complete. */
  finishImport(tx: Tx, id: number, counts: ImportCounts, finishedAt: number): Promise<void>;
}
