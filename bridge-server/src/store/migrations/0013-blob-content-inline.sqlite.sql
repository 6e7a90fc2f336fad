-- 0013: a small blob's bytes may live in its row instead of the blob store. Relayed mails are a
-- few kilobytes each, and a file per mail cost the relay more than composing the mail did; in the
-- row they are written in the same transaction that records the mail as prepared. The bytes are
-- sealed exactly as a file would be (AES-256-GCM under the data keys when blob encryption is on).
-- NULL: the blob store holds the bytes, as for every blob before this migration.
ALTER TABLE blobs ADD COLUMN content BLOB;
