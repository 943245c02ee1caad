-- The admin web UI: passwords (argon2id PHC strings), signed-in sessions and failed sign-ins.

ALTER TABLE users ADD COLUMN password_hash TEXT;

-- Only the SHA-256 of a session cookie is kept.
CREATE TABLE web_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

-- Keyed by the normalised username tried, known or not, so guessing names gains nothing.
CREATE TABLE login_failures (
    username     TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL
);
