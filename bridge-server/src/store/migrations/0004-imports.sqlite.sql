-- 0004: chat-export imports as evidence of themselves: which file (SHA-256, name, size), into
-- which conversation, read in which zone and date order, by whom and when, and what it added.
-- The imported messages are ordinary events (channel 'chat-export') whose raw record names the
-- source hash, so each one is tied to this row through the hash chain.

CREATE TABLE imports (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  conversation_id INTEGER NOT NULL REFERENCES conversations (id),
  source_sha256 TEXT NOT NULL,
  source_name TEXT NOT NULL,
  source_size INTEGER NOT NULL,
  source_kind TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  date_order TEXT NOT NULL,
  firm_authors_json TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  mirrored INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'running',
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  messages INTEGER NOT NULL DEFAULT 0,
  added INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  media_linked INTEGER NOT NULL DEFAULT 0,
  media_missing INTEGER NOT NULL DEFAULT 0,
  first_message_at INTEGER,
  last_message_at INTEGER
);
CREATE INDEX imports_by_source ON imports (tenant, source_sha256);
CREATE INDEX imports_by_conversation ON imports (conversation_id, id);

-- An import record is evidence: it can be finished, never removed.
CREATE TRIGGER imports_no_delete BEFORE DELETE ON imports
BEGIN
  SELECT RAISE(ABORT, 'imports are kept as evidence');
END;
