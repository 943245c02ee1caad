-- Order per subject. A webhook may take messages one subject at a time (`ordering`: NULL for
-- any order, `per_subject`, or `coalesce` where a newer message supersedes queued older ones);
-- the outbox keeps each message's subject, and a delivery to such a webhook keeps its subject
-- and its message's outbox seq, which orders its lane. A superseded delivery is a new final
-- status: the new check admits more than the old one, so it is added without a table scan
-- under the exclusive lock and validated after.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'delivered', 'failed', 'superseded')) NOT VALID;
ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD COLUMN subject TEXT;
ALTER TABLE deliveries ADD COLUMN seq BIGINT;
CREATE INDEX deliveries_lanes ON deliveries (webhook_id, subject, seq)
    WHERE status = 'pending' AND subject IS NOT NULL;
ALTER TABLE webhooks ADD COLUMN ordering TEXT;
ALTER TABLE outbox ADD COLUMN subject TEXT;
