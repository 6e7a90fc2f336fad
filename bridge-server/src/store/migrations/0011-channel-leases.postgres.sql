-- 0011: state a linked WhatsApp Web session shares between bridge instances. One instance at a
-- time owns the session through a lease that expires unless renewed; the catch-up marks live here
-- rather than in one instance's data dir, so the instance that takes over catches up from where
-- the last owner stopped.
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  generation BIGINT NOT NULL,
  acquired_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE catch_up_numbers (
  business_id TEXT PRIMARY KEY,
  linked_at BIGINT NOT NULL
);

CREATE TABLE catch_up_marks (
  business_id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  mark BIGINT NOT NULL,
  PRIMARY KEY (business_id, chat_id)
);
