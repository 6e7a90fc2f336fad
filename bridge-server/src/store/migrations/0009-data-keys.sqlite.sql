-- 0009: data keys for encrypting media and mail blobs at rest. Each key is stored wrapped
-- (AES-256-GCM) by the master key, which never enters the database; rotating the master key
-- re-wraps these rows and leaves the blobs as they are. New blobs use the active key; older
-- keys stay to read what they sealed.

CREATE TABLE data_keys (
  id TEXT PRIMARY KEY,
  wrapped TEXT NOT NULL,
  master_key_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  active INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX data_keys_one_active ON data_keys (active) WHERE active = 1;
