-- 0008: retention and legal hold. Holds on a matter or a conversation block deletion until
-- released (a release is recorded, the hold row stays). Deletion certificates say what retention
-- or an erasure removed, under which rule, with the hashes that identified it. The archive's
-- append-only triggers now let deletes through only while a retention run has marked itself in
-- retention_in_progress inside its own transaction: no other code path can delete archive rows.

CREATE TABLE legal_holds (
  id INTEGER PRIMARY KEY,
  matter_id INTEGER REFERENCES matters (id),
  conversation_id INTEGER,
  reason TEXT NOT NULL,
  placed_at INTEGER NOT NULL,
  placed_by TEXT NOT NULL,
  released_at INTEGER,
  released_by TEXT,
  CHECK ((matter_id IS NULL) <> (conversation_id IS NULL))
);
CREATE INDEX legal_holds_by_matter ON legal_holds (matter_id) WHERE released_at IS NULL;
CREATE INDEX legal_holds_by_conversation ON legal_holds (conversation_id) WHERE released_at IS NULL;

CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds
BEGIN
  SELECT RAISE(ABORT, 'legal holds are released, never deleted');
END;

CREATE TABLE deletion_certificates (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL,
  chat_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  deleted_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  chain_head TEXT NOT NULL,
  certificate_json TEXT NOT NULL,
  certificate_sha256 TEXT NOT NULL
);
CREATE INDEX deletion_certificates_by_conversation ON deletion_certificates (conversation_id);

CREATE TRIGGER deletion_certificates_append_only_update BEFORE UPDATE ON deletion_certificates
BEGIN
  SELECT RAISE(ABORT, 'deletion certificates are append-only');
END;
CREATE TRIGGER deletion_certificates_append_only_delete BEFORE DELETE ON deletion_certificates
BEGIN
  SELECT RAISE(ABORT, 'deletion certificates are append-only');
END;

-- One row while a retention run deletes, written and removed in the run's transaction.
CREATE TABLE retention_in_progress (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  started_at INTEGER NOT NULL
);

DROP TRIGGER events_append_only_delete;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
WHEN NOT EXISTS (SELECT 1 FROM retention_in_progress)
BEGIN
  SELECT RAISE(ABORT, 'events are append-only; only retention deletes them');
END;

DROP TRIGGER imports_no_delete;
CREATE TRIGGER imports_no_delete BEFORE DELETE ON imports
WHEN NOT EXISTS (SELECT 1 FROM retention_in_progress)
BEGIN
  SELECT RAISE(ABORT, 'imports are kept as evidence; only retention deletes them');
END;
