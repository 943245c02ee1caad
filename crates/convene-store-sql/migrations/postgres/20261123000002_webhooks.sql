-- Webhook endpoints, the deliveries the outbox fans out to them, and every attempt.

ALTER TABLE outbox ADD COLUMN source TEXT NOT NULL DEFAULT 'convene';
-- NULL until the dispatcher has fanned the message out to deliveries.
ALTER TABLE outbox ADD COLUMN dispatched_at TIMESTAMPTZ;
CREATE INDEX outbox_undispatched ON outbox (seq) WHERE dispatched_at IS NULL;

CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    event_types           JSONB NOT NULL,
    enabled               BOOLEAN NOT NULL,
    encoding              TEXT NOT NULL,
    description           TEXT,
    headers               JSONB NOT NULL,
    rate_limit_per_s      INTEGER,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until TIMESTAMPTZ,
    disabled_reason       TEXT,
    failing_since         TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    data            JSONB NOT NULL,
    source          TEXT NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    lease_token     TEXT,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (webhook_id, message_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_of_webhook ON deliveries (webhook_id, id);

CREATE TABLE attempts (
    id            BIGSERIAL PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at  TIMESTAMPTZ NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error_class   TEXT,
    error         TEXT,
    response_body TEXT
);
CREATE INDEX attempts_of_delivery ON attempts (delivery_id, id);
CREATE INDEX attempts_by_time ON attempts (attempted_at);
