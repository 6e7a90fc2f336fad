-- 0007: the audit trail. Who read, searched, replied, linked, exported, restored or deleted what,
-- when and from where. Append-only like the archive and hash-chained the same way, so a changed
-- or removed entry breaks every later link and `wa-bridge verify` names it.

CREATE TABLE audit_entries (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  actor_name TEXT,
  roles TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  target TEXT,
  source TEXT NOT NULL,
  details_json TEXT NOT NULL DEFAULT '{}',
  prev_sha256 TEXT NOT NULL,
  entry_sha256 TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_by_time ON audit_entries (at);
CREATE INDEX audit_by_actor ON audit_entries (actor, at);
CREATE INDEX audit_by_target ON audit_entries (target, at);

CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit_entries
BEGIN
  SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit_entries
BEGIN
  SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
