-- 0001: the first schema: conversations, the append-only event archive, media, delivery
-- statuses, relayed mail and the outbox. Times are milliseconds since the epoch (UTC).

CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  channel TEXT NOT NULL,
  chat_key TEXT NOT NULL,
  chat_token TEXT NOT NULL UNIQUE,
  business_id TEXT NOT NULL,
  business_display_number TEXT,
  client_wa_id TEXT,
  client_user_id TEXT,
  client_name TEXT,
  subject TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  chain_head TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE (tenant, channel, chat_key)
);
CREATE INDEX conversations_by_wa_id ON conversations (tenant, channel, business_id, client_wa_id);
CREATE INDEX conversations_by_user_id ON conversations (tenant, channel, business_id, client_user_id);

-- Every WhatsApp event as received: the normalized event and the raw payload in event_json.
-- The unique key makes redelivery harmless; the triggers make the archive append-only.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations (id),
  seq INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  channel TEXT NOT NULL,
  wa_message_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  version_key TEXT NOT NULL DEFAULT '',
  direction TEXT NOT NULL,
  content_type TEXT,
  wa_timestamp INTEGER NOT NULL,
  event_json TEXT NOT NULL,
  chain_sha256 TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (tenant, channel, wa_message_id, kind, version_key),
  UNIQUE (conversation_id, seq)
);
CREATE INDEX events_by_wa_id ON events (conversation_id, wa_message_id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;

-- Content-addressed blobs on disk (media, relayed mail); this table lists what is stored.
CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE attachments (
  id INTEGER PRIMARY KEY,
  event_id INTEGER NOT NULL REFERENCES events (id),
  ordinal INTEGER NOT NULL,
  wa_media_id TEXT NOT NULL,
  mime_type TEXT NOT NULL,
  file_name TEXT,
  announced_sha256 TEXT,
  sha256 TEXT REFERENCES blobs (sha256),
  size INTEGER,
  fetched_at INTEGER,
  UNIQUE (event_id, ordinal)
);

CREATE TABLE statuses (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  channel TEXT NOT NULL,
  wa_message_id TEXT NOT NULL,
  status TEXT NOT NULL,
  wa_timestamp INTEGER NOT NULL,
  recipient_id TEXT,
  callback_data TEXT,
  status_json TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (tenant, channel, wa_message_id, status)
);

-- One row per mail: written 'prepared' with the exact bytes before the first send, 'sent' after.
CREATE TABLE mail_relays (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations (id),
  event_id INTEGER REFERENCES events (id),
  mail_message_id TEXT NOT NULL UNIQUE,
  raw_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
  state TEXT NOT NULL,
  prepared_at INTEGER NOT NULL,
  sent_at INTEGER,
  response TEXT
);
CREATE UNIQUE INDEX mail_relays_by_event ON mail_relays (conversation_id, coalesce(event_id, 0));

CREATE TABLE outbox_jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  conversation_id INTEGER,
  sort_key INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL,
  locked_until INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_active ON outbox_jobs (conversation_id, sort_key, id) WHERE state IN ('pending', 'running');
CREATE INDEX outbox_unordered ON outbox_jobs (run_at, id) WHERE state = 'pending' AND conversation_id IS NULL;
CREATE INDEX outbox_by_state ON outbox_jobs (state, kind);
