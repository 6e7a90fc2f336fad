-- 0003: matters and who is on them, the periods a conversation belongs to a matter, the person an
-- unlinked conversation is assigned to (what lets a solicitor see it before any matter exists),
-- and a full-text index over message text for the API's search.

CREATE TABLE matters (
  id INTEGER PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE COLLATE NOCASE,
  title TEXT NOT NULL,
  matter_type TEXT,
  state TEXT NOT NULL DEFAULT 'open',
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  closed_at INTEGER,
  closed_by TEXT
);

-- Members by sign-in name (UPN), stored lower-case so a token's name matches however it is typed.
CREATE TABLE matter_members (
  matter_id INTEGER NOT NULL REFERENCES matters (id),
  upn TEXT NOT NULL,
  name TEXT,
  added_at INTEGER NOT NULL,
  added_by TEXT NOT NULL,
  PRIMARY KEY (matter_id, upn)
);
CREATE INDEX matter_members_by_upn ON matter_members (upn, matter_id);

-- A link is a period: it starts when made and ends when unlinked; ended links stay as history.
-- At most one link in force per conversation and matter.
CREATE TABLE matter_links (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations (id),
  matter_id INTEGER NOT NULL REFERENCES matters (id),
  linked_at INTEGER NOT NULL,
  linked_by TEXT NOT NULL,
  unlinked_at INTEGER,
  unlinked_by TEXT
);
CREATE UNIQUE INDEX matter_links_in_force ON matter_links (conversation_id, matter_id) WHERE unlinked_at IS NULL;
CREATE INDEX matter_links_by_matter ON matter_links (matter_id, conversation_id);

-- One assignee per conversation (lower-case UPN); a row only while someone is assigned.
CREATE TABLE conversation_assignees (
  conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),
  assignee TEXT NOT NULL,
  assigned_at INTEGER NOT NULL,
  assigned_by TEXT NOT NULL
);
CREATE INDEX conversation_assignees_by_upn ON conversation_assignees (assignee);

-- The searchable text of each message and edit: body, caption, file name and the readable parts
-- of locations, buttons and list answers. rowid is the event id. The trigger feeds it on insert,
-- so every ingest path (webhook, whatsapp-web.js, sent replies, imports) is indexed alike; events
-- are append-only, so nothing else needs maintaining.
CREATE VIRTUAL TABLE message_search USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER message_search_index AFTER INSERT ON events
WHEN new.kind IN ('message', 'edit')
BEGIN
  INSERT INTO message_search (rowid, body)
  SELECT new.id, trim(
    coalesce(json_extract(new.event_json, '$.content.body'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.text'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.title'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.name'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.address'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.media.caption'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.media.fileName'), ''))
  WHERE json_valid(new.event_json);
END;

INSERT INTO message_search (rowid, body)
SELECT id, trim(
  coalesce(json_extract(event_json, '$.content.body'), '') || ' ' ||
  coalesce(json_extract(event_json, '$.content.text'), '') || ' ' ||
  coalesce(json_extract(event_json, '$.content.title'), '') || ' ' ||
  coalesce(json_extract(event_json, '$.content.name'), '') || ' ' ||
  coalesce(json_extract(event_json, '$.content.address'), '') || ' ' ||
  coalesce(json_extract(event_json, '$.content.media.caption'), '') || ' ' ||
  coalesce(json_extract(event_json, '$.content.media.fileName'), ''))
FROM events
WHERE kind IN ('message', 'edit') AND json_valid(event_json);

CREATE INDEX events_by_time ON events (wa_timestamp);
