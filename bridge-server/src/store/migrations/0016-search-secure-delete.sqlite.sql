-- 0016: deleting a message from the full-text index removes its words from the index itself.
--
-- By default FTS5 records a deletion as a marker and leaves the words in the older segments
-- until a merge rewrites them, so after a retention deletion or an erasure the words of the
-- messages could still be read from the database file. With secure-delete they go at once.
-- Messages are only ever deleted by retention and erasure, so the webhook path pays nothing.
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
