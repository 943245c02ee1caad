-- People (CRM contacts), their tags, and deletion records for sync. Times are Unix microseconds.

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    given_name   TEXT,
    family_name  TEXT,
    email        TEXT,
    phone        TEXT,
    language     TEXT,
    address      TEXT,
    do_not_email INTEGER NOT NULL CHECK (do_not_email IN (0, 1)),
    is_opt_out   INTEGER NOT NULL CHECK (is_opt_out IN (0, 1)),
    do_not_sms   INTEGER NOT NULL CHECK (do_not_sms IN (0, 1)),
    user_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX people_email ON people (lower(email));

CREATE TABLE person_tags (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (person_id, tag)
) STRICT;

CREATE TABLE person_deletions (
    person_id  TEXT PRIMARY KEY,
    email      TEXT,
    deleted_at INTEGER NOT NULL
) STRICT;
CREATE INDEX person_deletions_time ON person_deletions (deleted_at);
