-- CRM sync over OSDI: profiles, runs, per-pair state, tombstones, flags, the sync log, errors,
-- cursors, tag and event links, and attendances. The same SQL text serves both backends, so
-- times are Unix microseconds and JSON is text here.

CREATE TABLE osdi_profiles (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    entry_point  TEXT NOT NULL,
    token_sealed TEXT NOT NULL,
    settings     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE osdi_runs (
    id          TEXT PRIMARY KEY,
    profile_id  TEXT NOT NULL REFERENCES osdi_profiles (id) ON DELETE CASCADE,
    job         TEXT NOT NULL,
    origin      TEXT NOT NULL,
    state       TEXT NOT NULL,
    counts      TEXT NOT NULL,
    resume      TEXT NOT NULL,
    error       TEXT,
    lease_token TEXT,
    lease_until BIGINT,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
);
-- One run per profile at a time, whichever node queues it.
CREATE UNIQUE INDEX osdi_runs_one_active ON osdi_runs (profile_id) WHERE state IN ('queued', 'running');
CREATE INDEX osdi_runs_profile ON osdi_runs (profile_id, created_at);

CREATE TABLE osdi_run_records (
    run_id    TEXT NOT NULL REFERENCES osdi_runs (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    person_id TEXT,
    remote_id TEXT,
    outcome   TEXT NOT NULL,
    fields    TEXT NOT NULL,
    conflicts TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE osdi_errors (
    run_id    TEXT NOT NULL REFERENCES osdi_runs (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    retryable BIGINT NOT NULL,
    person_id TEXT,
    remote_id TEXT,
    status    BIGINT,
    excerpt   TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE osdi_pairs (
    profile_id      TEXT NOT NULL REFERENCES osdi_profiles (id) ON DELETE CASCADE,
    remote_id       TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    remote_modified BIGINT NOT NULL,
    local_modified  BIGINT NOT NULL,
    snapshot        TEXT NOT NULL,
    hash            TEXT NOT NULL,
    last_origin     TEXT NOT NULL,
    status          TEXT NOT NULL,
    PRIMARY KEY (profile_id, remote_id)
);
CREATE UNIQUE INDEX osdi_pairs_person ON osdi_pairs (profile_id, person_id);

CREATE TABLE osdi_tombstones (
    profile_id TEXT NOT NULL REFERENCES osdi_profiles (id) ON DELETE CASCADE,
    remote_id  TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (profile_id, remote_id)
);

CREATE TABLE osdi_flags (
    id          TEXT PRIMARY KEY,
    profile_id  TEXT NOT NULL REFERENCES osdi_profiles (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    person_id   TEXT,
    remote_id   TEXT,
    detail      TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX osdi_flags_open ON osdi_flags (profile_id, status);

CREATE TABLE osdi_cursors (
    profile_id TEXT NOT NULL REFERENCES osdi_profiles (id) ON DELETE CASCADE,
    stream     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (profile_id, stream)
);

-- One row per tag known to be on a person's remote twin.
CREATE TABLE osdi_taggings (
    profile_id TEXT NOT NULL REFERENCES osdi_profiles (id) ON DELETE CASCADE,
    person_id  TEXT NOT NULL,
    tag        TEXT NOT NULL,
    href       TEXT,
    PRIMARY KEY (profile_id, person_id, tag)
);

CREATE TABLE osdi_event_links (
    profile_id      TEXT NOT NULL REFERENCES osdi_profiles (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    remote_event_id TEXT NOT NULL,
    PRIMARY KEY (profile_id, event_id)
);

CREATE TABLE attendances (
    event_id      TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    person_id     TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    remote_href   TEXT,
    source        TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (event_id, person_id)
);
CREATE INDEX attendances_updated ON attendances (updated_at);
