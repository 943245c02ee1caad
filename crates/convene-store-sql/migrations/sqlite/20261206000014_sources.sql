-- Inbound sources: other platforms' webhooks received at /in/<token>. Only the token's SHA-256
-- is kept; a Standard Webhooks source's secret is sealed. Every POST is logged with its raw body
-- and the status it was answered with; an accepted one names the signal it became. Times are
-- Unix microseconds; the same SQL text serves both backends.
CREATE TABLE sources (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    token_sha256  TEXT NOT NULL UNIQUE,
    secret_sealed TEXT,
    id_member     TEXT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE source_receipts (
    id           TEXT PRIMARY KEY,
    source_id    TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    status       INTEGER NOT NULL,
    reason       TEXT,
    content_type TEXT,
    body         TEXT NOT NULL,
    signal_id    TEXT,
    received_at  BIGINT NOT NULL
);
CREATE INDEX source_receipts_time ON source_receipts (source_id, received_at);
