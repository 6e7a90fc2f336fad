-- 0009: data keys for encrypting blobs at rest, each wrapped by the master key.

CREATE TABLE data_keys (
  id TEXT PRIMARY KEY,
  wrapped TEXT NOT NULL,
  master_key_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  active BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX data_keys_one_active ON data_keys (active) WHERE active = 1;
