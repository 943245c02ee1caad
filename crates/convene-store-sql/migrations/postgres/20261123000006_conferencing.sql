-- Sessions of events, the room each remote one has at its provider, slide decks, and the
-- ordered queue of slide changes still to send.

-- Numbers are never reused: Meetecho knows rooms and decks by them.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('session', 0), ('deck', 0);

CREATE TABLE sessions (
    id                    TEXT PRIMARY KEY,
    -- Kept when the event goes: the room must still be removed.
    event_id              TEXT REFERENCES events (id) ON DELETE SET NULL,
    number                BIGINT NOT NULL UNIQUE,
    title                 TEXT NOT NULL,
    group_name            TEXT NOT NULL,
    starts_at             TIMESTAMPTZ NOT NULL,
    duration_minutes      INTEGER NOT NULL,
    extrainfo             TEXT NOT NULL,
    provider              TEXT,
    conference_status     TEXT,
    conference_error      TEXT,
    room_remote_id        TEXT,
    room_join_url         TEXT,
    room_secret           TEXT,
    room_data             JSONB,
    room_starts_at        TIMESTAMPTZ,
    room_duration_minutes INTEGER,
    deleted_at            TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_by_event ON sessions (event_id, starts_at, id) WHERE deleted_at IS NULL;

CREATE TABLE decks (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    number     BIGINT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    url        TEXT NOT NULL,
    rev        TEXT NOT NULL,
    position   INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX decks_by_session ON decks (session_id, position);

CREATE TABLE slide_ops (
    seq         BIGSERIAL PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('add', 'delete', 'revise', 'update')),
    deck_number BIGINT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX slide_ops_by_session ON slide_ops (session_id, seq);
