-- no-transaction
-- Order per subject. A webhook may take messages one subject at a time (`ordering`: NULL for
-- any order, `per_subject`, or `coalesce` where a newer message supersedes queued older ones);
-- the outbox keeps each message's subject, and a delivery to such a webhook keeps its subject
-- and its message's outbox seq, which orders its lane. A superseded delivery is a new final
-- status. SQLite cannot change a CHECK constraint in place, so the deliveries table is rebuilt
-- as its documentation describes (new table, rows copied, old table dropped, new one renamed),
-- in one transaction and with foreign keys off, so dropping the old table does not cascade to
-- the attempts that keep pointing at `deliveries` by name.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE deliveries_new (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    data            TEXT NOT NULL,
    source          TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    status          TEXT NOT NULL
                    CHECK (status IN ('pending', 'delivered', 'failed', 'superseded')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_token     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    traceparent     TEXT,
    subject         TEXT,
    seq             INTEGER,
    UNIQUE (webhook_id, message_id)
) STRICT;
INSERT INTO deliveries_new (id, webhook_id, message_id, event_type, data, source, occurred_at,
        status, attempts, next_attempt_at, lease_token, lease_until, created_at, updated_at,
        traceparent)
    SELECT id, webhook_id, message_id, event_type, data, source, occurred_at, status, attempts,
        next_attempt_at, lease_token, lease_until, created_at, updated_at, traceparent
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_of_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_due_by_webhook ON deliveries (webhook_id, next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX deliveries_lanes ON deliveries (webhook_id, subject, seq)
    WHERE status = 'pending' AND subject IS NOT NULL;
ALTER TABLE webhooks ADD COLUMN ordering TEXT;
ALTER TABLE outbox ADD COLUMN subject TEXT;
COMMIT;
PRAGMA foreign_keys = ON;
