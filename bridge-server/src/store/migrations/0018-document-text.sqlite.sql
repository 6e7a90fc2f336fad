-- 0018: the text of the documents clients send (PDF, Word .docx, plain text and CSV) is
-- searchable with their messages. text_state follows each attachment that is such a document:
-- 'pending' until the bridge has read it (once its bytes are stored), 'working:<ms>' while an
-- instance reads it, 'indexed' once its text is in the message's search entry, and
-- 'none: <reason>' when it gave none. Other media keep NULL. Documents already stored are marked
-- here, and read by the bridge after the upgrade.
ALTER TABLE attachments ADD COLUMN text_state TEXT;

UPDATE attachments SET text_state = 'pending'
WHERE lower(trim(CASE WHEN instr(mime_type, ';') > 0 THEN substr(mime_type, 1, instr(mime_type, ';') - 1) ELSE mime_type END)) IN
    ('application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'text/plain', 'text/csv')
  OR lower(file_name) LIKE '%.pdf' OR lower(file_name) LIKE '%.docx' OR lower(file_name) LIKE '%.txt' OR lower(file_name) LIKE '%.csv';

CREATE INDEX attachments_text_waiting ON attachments (id) WHERE text_state = 'pending' OR text_state LIKE 'working:%';
