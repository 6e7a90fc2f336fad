-- 0012: the text search table keeps the conversation of each message, with an index that lists a
-- conversation's indexed messages newest first. A search in one matter or chat (or by a user who
-- sees only a few chats) reads those conversations' messages newest first and stops after a
-- page, instead of reading every hit of its words in the whole archive; the API's own conditions
-- still decide what is shown. (The SQLite schema keeps the conversation in its index likewise.)

ALTER TABLE message_search ADD COLUMN conversation_id BIGINT;

UPDATE message_search s SET conversation_id = e.conversation_id FROM events e WHERE e.id = s.rowid;

ALTER TABLE message_search ALTER COLUMN conversation_id SET NOT NULL;

CREATE INDEX message_search_by_conversation ON message_search (conversation_id, rowid);

CREATE OR REPLACE FUNCTION message_search_index() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  body TEXT;
BEGIN
  IF NEW.kind IN ('message', 'edit') THEN
    body := message_search_text(NEW.event_json);
    IF body IS NOT NULL THEN
      INSERT INTO message_search (rowid, body, document, conversation_id)
      VALUES (NEW.id, body, to_tsvector('simple', unaccent(body)), NEW.conversation_id);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

-- Each hit lists the matters whose links cover it, ended links included: found by conversation.
CREATE INDEX matter_links_by_conversation ON matter_links (conversation_id);
