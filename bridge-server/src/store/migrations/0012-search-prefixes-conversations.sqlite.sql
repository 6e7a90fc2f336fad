-- 0012: the full-text index keeps, besides each message's text, the id of its conversation as a
-- token of a second column, and prefix indexes for words of one to three letters.
--
-- Every word of a search is a prefix term ("lea" finds "lease"). Without a prefix index FTS5
-- answers a prefix term by merging the lists of every word that starts with it before the first
-- hit comes back, which for the short, common words of chat text ("the", "to", "i") means most of
-- the archive; with one, a prefix of that length is read newest first like any word and a page
-- stops after its hits. Longer prefixes are shared by fewer and rarer words, whose merge is quick.
-- Each prefix length makes storing and importing messages dearer, so there are no more of them
-- than the short words need.
--
-- The conversation column lets a search in one matter or chat (or a user who sees only a few
-- chats) ask the index for those conversations' messages only, so it skips the hits elsewhere
-- instead of reading them one by one; the API's own conditions still decide what is shown.

CREATE VIRTUAL TABLE message_search_0012 USING fts5 (
  body,
  conversation,
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '1 2 3'
);

INSERT INTO message_search_0012 (rowid, body, conversation)
SELECT s.rowid, s.body, CAST(e.conversation_id AS TEXT)
FROM message_search s
JOIN events e ON e.id = s.rowid;

DROP TRIGGER message_search_index;
DROP TABLE message_search;
ALTER TABLE message_search_0012 RENAME TO message_search;

CREATE TRIGGER message_search_index AFTER INSERT ON events
WHEN new.kind IN ('message', 'edit')
BEGIN
  INSERT INTO message_search (rowid, body, conversation)
  SELECT new.id, trim(
    coalesce(json_extract(new.event_json, '$.content.body'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.text'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.title'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.name'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.address'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.media.caption'), '') || ' ' ||
    coalesce(json_extract(new.event_json, '$.content.media.fileName'), '')),
    CAST(new.conversation_id AS TEXT)
  WHERE json_valid(new.event_json);
END;

-- Each hit lists the matters whose links cover it, ended links included: found by conversation.
CREATE INDEX matter_links_by_conversation ON matter_links (conversation_id);
