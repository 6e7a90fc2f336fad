-- 0006: signed checkpoints of every conversation's chain head. A checkpoint fixes what the
-- archive held at a moment: rewriting or cutting a chain afterwards no longer matches a head
-- that was signed, even where every link still hashes. Checkpoints chain to each other and are
-- append-only like the events they cover.

CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  heads_json TEXT NOT NULL,
  heads_sha256 TEXT NOT NULL,
  previous_sha256 TEXT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL
);

CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
BEGIN
  SELECT RAISE(ABORT, 'checkpoints are append-only');
END;
CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
BEGIN
  SELECT RAISE(ABORT, 'checkpoints are append-only');
END;
