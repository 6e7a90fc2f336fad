-- 0017: a released legal hold keeps why it was released beside who released it and when, so the
-- hold's own record answers the question the audit trail answered alone before. Holds released
-- before this have none (NULL); their reason is in the audit trail's hold.release entry.
ALTER TABLE legal_holds ADD COLUMN release_reason TEXT;
