-- 0010: a conversation's messages are listed by when they were sent (imported history among the
-- messages of its time); this index pages them in that order without sorting the conversation.
CREATE INDEX events_by_conversation_time ON events (conversation_id, wa_timestamp, seq);
