-- Sessions of events, the room each remote one has at its provider, slide decks, and the
-- ordered queue of slide changes still to send. Times in Unix microseconds.

-- Numbers are never reused: Meetecho knows rooms and decks by them.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('session', 0), ('deck', 0);

CREATE TABLE sessions (
    id                    TEXT PRIMARY KEY,
    -- Kept when the event goes: the room must still be removed.
    event_id              TEXT REFERENCES events (id) ON DELETE SET NULL,
    number                INTEGER NOT NULL UNIQUE,
    title                 TEXT NOT NULL,
    group_name            TEXT NOT NULL,
    starts_at             INTEGER NOT NULL,
    duration_minutes      INTEGER NOT NULL,
    extrainfo             TEXT NOT NULL,
    provider              TEXT,
    conference_status     TEXT,
    conference_error      TEXT,
    room_remote_id        TEXT,
    room_join_url         TEXT,
    room_secret           TEXT,
    room_data             TEXT,
    room_starts_at        INTEGER,
    room_duration_minutes INTEGER,
    deleted_at            INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_event ON sessions (event_id, starts_at, id) WHERE deleted_at IS NULL;

CREATE TABLE decks (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    url        TEXT NOT NULL,
    rev        TEXT NOT NULL,
    position   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX decks_by_session ON decks (session_id, position);

CREATE TABLE slide_ops (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('add', 'delete', 'revise', 'update')),
    deck_number INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX slide_ops_by_session ON slide_ops (session_id, seq);
