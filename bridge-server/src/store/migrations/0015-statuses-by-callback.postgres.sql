-- 0015: a reply's part whose send was handed to WhatsApp just before the bridge died (or whose
-- answer timed out) is looked up by the callback data the send carried, which the Cloud API
-- returns on the part's statuses, before the part is sent again. Only replies carry it.
CREATE INDEX statuses_by_callback ON statuses (tenant, channel, callback_data) WHERE callback_data IS NOT NULL;
