-- The Event Center ↔ Dashboard protocol: the link an Event Center holds on a course (event),
-- the links this server holds to remote Dashboard courses, the audit trail of sync calls, and
-- connector jobs (coalesced per subject).

ALTER TABLE events ADD COLUMN sync_event_id TEXT;
ALTER TABLE events ADD COLUMN sync_since TIMESTAMPTZ;

CREATE TABLE sync_calls (
    id              TEXT PRIMARY KEY,
    event_id        TEXT REFERENCES events (id) ON DELETE SET NULL,
    direction       TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    course_slug     TEXT NOT NULL,
    center_event_id TEXT,
    dry_run         BOOLEAN NOT NULL,
    outcome         TEXT NOT NULL,
    status          INTEGER,
    added           INTEGER NOT NULL,
    removed         INTEGER NOT NULL,
    skipped         INTEGER NOT NULL,
    detail          TEXT,
    at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX sync_calls_by_event ON sync_calls (event_id, id);

CREATE TABLE dashboard_links (
    event_id         TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    base_url         TEXT NOT NULL,
    course_slug      TEXT NOT NULL,
    secret           TEXT NOT NULL,
    linked_at        TIMESTAMPTZ NOT NULL,
    last_push_at     TIMESTAMPTZ,
    last_push_result TEXT
);

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    payload         JSONB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'failed')),
    generation      BIGINT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    lease_token     TEXT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX jobs_one_waiting ON jobs (kind, subject) WHERE status = 'pending';
CREATE INDEX jobs_due ON jobs (next_attempt_at, id) WHERE status = 'pending';
