-- Webhook endpoints, the deliveries the outbox fans out to them, and every attempt.

ALTER TABLE outbox ADD COLUMN source TEXT NOT NULL DEFAULT 'convene';
-- Times are Unix microseconds, as in the foundation migration.
-- NULL until the dispatcher has fanned the message out to deliveries.
ALTER TABLE outbox ADD COLUMN dispatched_at INTEGER;
CREATE INDEX outbox_undispatched ON outbox (seq) WHERE dispatched_at IS NULL;

CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    event_types           TEXT NOT NULL,
    enabled               INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    encoding              TEXT NOT NULL,
    description           TEXT,
    headers               TEXT NOT NULL,
    rate_limit_per_s      INTEGER,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until INTEGER,
    disabled_reason       TEXT,
    failing_since         INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    data            TEXT NOT NULL,
    source          TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_token     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (webhook_id, message_id)
) STRICT;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_of_webhook ON deliveries (webhook_id, id);

CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at  INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error_class   TEXT,
    error         TEXT,
    response_body TEXT
) STRICT;
CREATE INDEX attempts_of_delivery ON attempts (delivery_id, id);
CREATE INDEX attempts_by_time ON attempts (attempted_at);
