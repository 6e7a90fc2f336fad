import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './db.js';
import { countWaitingDocuments, READING_TAKEN_OVER_AFTER_MS, recordDocumentText, releaseDocuments, takeWaitingDocuments } from './document-text.js';
import type { Database } from './schema.js';

describe('documents waiting to be read', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-doc-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // The bridge looks for them every 5 s: over an archive of a million attachments, a look that
  // read the table would cost the main thread that much every time.
  it('are found through the partial index of waiting documents, not by reading every attachment', async () => {
    const file = path.join(dir, 'wa-bridge.sqlite');
    await (await openDatabase({ kind: 'sqlite', file })).close();
    const raw = new BetterSqlite3(file);
    const statements: Array<{ sql: string; parameters: readonly unknown[] }> = [];
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: raw }),
      log: (event) => {
        if (event.level === 'query' && /^select/i.test(event.query.sql)) statements.push({ sql: event.query.sql, parameters: event.query.parameters });
      },
    });
    try {
      expect(await takeWaitingDocuments(db, Date.now(), 4)).toEqual([]);
      expect(await countWaitingDocuments(db)).toBe(0);
      expect(statements).toHaveLength(2);
      for (const { sql, parameters } of statements) {
        const plan = raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(parameters as unknown[])) as Array<{ detail: string }>;
        expect(plan.map((step) => step.detail).join('; '), sql).toMatch(/USING (COVERING )?INDEX attachments_text_waiting/);
      }
    } finally {
      await db.destroy();
    }
  });

  it('are taken by one reader at a time, taken over once a reader stopped long ago, and given back when the bridge stops', async () => {
    const file = path.join(dir, 'wa-bridge.sqlite');
    await (await openDatabase({ kind: 'sqlite', file })).close();
    // Rows alone, without their messages: foreign keys are not checked on this connection.
    const raw = new BetterSqlite3(file);
    raw.pragma('foreign_keys = OFF');
    const insert = raw.prepare('INSERT INTO attachments (id, event_id, ordinal, wa_media_id, mime_type, file_name, sha256, text_state) VALUES (?, ?, 0, ?, ?, ?, ?, ?)');
    insert.run(1, 11, 'm1', 'application/pdf', 'lease.pdf', 'a'.repeat(64), 'pending');
    insert.run(2, 12, 'm2', 'application/pdf', 'later.pdf', null, 'pending');
    insert.run(3, 13, 'm3', 'image/jpeg', 'photo.jpg', 'b'.repeat(64), null);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
    const stateOf = (id: number) => (raw.prepare('SELECT text_state FROM attachments WHERE id = ?').get(id) as { text_state: string | null }).text_state;
    try {
      const t0 = Date.parse('2026-11-30T09:00:00Z');
      // Only a document whose bytes are stored is taken; one still downloading waits.
      const taken = await takeWaitingDocuments(db, t0, 4);
      expect(taken).toEqual([{ attachmentId: 1, eventId: 11, sha256: 'a'.repeat(64), mimeType: 'application/pdf', fileName: 'lease.pdf' }]);
      expect(stateOf(1)).toBe(`working:${t0}`);
      expect(await takeWaitingDocuments(db, t0 + 1_000, 4)).toEqual([]);
      expect(await countWaitingDocuments(db)).toBe(1);
      const t1 = t0 + READING_TAKEN_OVER_AFTER_MS;
      expect((await takeWaitingDocuments(db, t1, 4)).map((document) => document.attachmentId)).toEqual([1]);
      // The first reader's result no longer counts; the one that took it over records its own.
      await recordDocumentText(db, taken[0]!, t0, { state: 'none', reason: 'late' });
      expect(stateOf(1)).toBe(`working:${t1}`);
      await releaseDocuments(db, taken, t1);
      expect(stateOf(1)).toBe('pending');
      const again = await takeWaitingDocuments(db, t1 + 1, 4);
      // Text for a message with no search entry is not written anywhere.
      await recordDocumentText(db, again[0]!, t1 + 1, { state: 'indexed', text: 'the deposit' });
      expect(stateOf(1)).toBe('none: its message has no search entry');
      expect(await countWaitingDocuments(db)).toBe(0);
      expect(stateOf(3)).toBeNull();
    } finally {
      await db.destroy();
    }
  });
});
