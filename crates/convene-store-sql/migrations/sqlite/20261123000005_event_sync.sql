-- The Event Center ↔ Dashboard protocol: the link an Event Center holds on a course (event),
-- the links this server holds to remote Dashboard courses, the audit trail of sync calls, and
-- connector jobs (coalesced per subject). Times in Unix microseconds.

ALTER TABLE events ADD COLUMN sync_event_id TEXT;
ALTER TABLE events ADD COLUMN sync_since INTEGER;

CREATE TABLE sync_calls (
    id              TEXT PRIMARY KEY,
    event_id        TEXT REFERENCES events (id) ON DELETE SET NULL,
    direction       TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    course_slug     TEXT NOT NULL,
    center_event_id TEXT,
    dry_run         INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    status          INTEGER,
    added           INTEGER NOT NULL,
    removed         INTEGER NOT NULL,
    skipped         INTEGER NOT NULL,
    detail          TEXT,
    at              INTEGER NOT NULL
) STRICT;
CREATE INDEX sync_calls_by_event ON sync_calls (event_id, id);

CREATE TABLE dashboard_links (
    event_id         TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    base_url         TEXT NOT NULL,
    course_slug      TEXT NOT NULL,
    secret           TEXT NOT NULL,
    linked_at        INTEGER NOT NULL,
    last_push_at     INTEGER,
    last_push_result TEXT
) STRICT;

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'failed')),
    generation      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    lease_token     TEXT,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX jobs_one_waiting ON jobs (kind, subject) WHERE status = 'pending';
CREATE INDEX jobs_due ON jobs (next_attempt_at, id) WHERE status = 'pending';
