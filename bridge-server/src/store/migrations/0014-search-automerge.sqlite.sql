-- 0014: the full-text index merges its segments sixteen at a time instead of four.
--
-- Every commit that adds messages writes a new segment of the index, and FTS5 merges segments
-- of one level once `automerge` of them are there (4 by default). Under a stream of webhooks,
-- each group commit a handful of messages, that merging was a steady share of the relay's
-- writes: with 16, the relay benchmark's main thread took 0.57 ms per message instead of 0.62
-- (means of seven runs each, alternating), while a search reads at most about twice as many
-- segments (search over 1,000,000 messages: p95 5.4 ms, against 5.0 before).
-- 16 is the largest value FTS5 takes. PostgreSQL's index has no such setting.
INSERT INTO message_search (message_search, rank) VALUES ('automerge', 16);
