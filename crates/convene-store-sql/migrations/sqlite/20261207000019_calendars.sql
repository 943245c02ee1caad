-- Calendars: a rising sequence per event and session (iCalendar's SEQUENCE, so a calendar
-- app takes a rescheduled invitation over the one it has), the invitation a mail carries, and
-- one revocable feed per user, kept as the digest of its token.
ALTER TABLE events ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mails ADD COLUMN calendar TEXT;

CREATE TABLE calendar_feeds (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest     TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
