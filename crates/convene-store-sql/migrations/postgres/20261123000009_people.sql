-- People (CRM contacts), their tags, and deletion records for sync.

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    given_name   TEXT,
    family_name  TEXT,
    email        TEXT,
    phone        TEXT,
    language     TEXT,
    address      JSONB,
    do_not_email BOOLEAN NOT NULL,
    is_opt_out   BOOLEAN NOT NULL,
    do_not_sms   BOOLEAN NOT NULL,
    user_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX people_email ON people (lower(email));

CREATE TABLE person_tags (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (person_id, tag)
);

CREATE TABLE person_deletions (
    person_id  TEXT PRIMARY KEY,
    email      TEXT,
    deleted_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX person_deletions_time ON person_deletions (deleted_at);
