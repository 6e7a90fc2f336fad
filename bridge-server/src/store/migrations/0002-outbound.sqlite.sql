-- 0002: solicitors' replies. An outbound command is stored before anything is sent; each
-- WhatsApp message it turns into is a part with its own id and delivery status, so statuses
-- that arrive later (in any order) find it.

CREATE TABLE outbound_commands (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations (id),
  command_json TEXT NOT NULL,
  source_kind TEXT NOT NULL,
  source_ref TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued',
  error_code TEXT,
  error_message TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (source_kind, source_ref)
);

CREATE TABLE outbound_parts (
  id INTEGER PRIMARY KEY,
  command_id INTEGER NOT NULL REFERENCES outbound_commands (id),
  part_index INTEGER NOT NULL,
  wa_message_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'sent',
  status_rank INTEGER NOT NULL DEFAULT 1,
  status_at INTEGER NOT NULL,
  sent_at INTEGER NOT NULL,
  UNIQUE (command_id, part_index)
);

CREATE INDEX events_inbound_by_time ON events (conversation_id, direction, wa_timestamp);
