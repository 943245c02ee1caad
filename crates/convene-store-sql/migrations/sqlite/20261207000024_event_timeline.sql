-- One timeline per event of what its connectors did: a webhook delivery and a mail keep the
-- event their message was about (NULL when it was about none), found by these indexes.
ALTER TABLE deliveries ADD COLUMN event_id TEXT;
CREATE INDEX deliveries_of_event ON deliveries (event_id, id) WHERE event_id IS NOT NULL;
ALTER TABLE mails ADD COLUMN event_id TEXT;
CREATE INDEX mails_of_event ON mails (event_id, created_at) WHERE event_id IS NOT NULL;
