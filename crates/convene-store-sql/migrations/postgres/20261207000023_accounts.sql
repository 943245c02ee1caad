-- Accounts an operator manages from the console: a user can be deactivated (their tokens,
-- sessions and password then open nothing, and nothing of theirs is deleted), and a password is
-- set through a one-time link, kept only as a digest, one live link per user.
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMPTZ;

CREATE TABLE password_links (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
