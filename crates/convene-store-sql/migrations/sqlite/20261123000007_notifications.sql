-- In-app notifications, preferences, the mail log with attempts, settings and suppressions.
-- Times are Unix microseconds.

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    event_id    TEXT,
    title       TEXT NOT NULL,
    message     TEXT NOT NULL,
    accept      TEXT,
    received_at INTEGER NOT NULL,
    is_read     INTEGER NOT NULL CHECK (is_read IN (0, 1)),
    actions     TEXT NOT NULL,
    dedupe_key  TEXT UNIQUE
) STRICT;
CREATE INDEX notifications_by_user ON notifications (user_id, received_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE is_read = 0;

CREATE TABLE notification_preferences (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (user_id, kind, channel)
) STRICT;

-- NULL until the notifier has planned the message's notifications and mails.
ALTER TABLE outbox ADD COLUMN notified_at INTEGER;
-- Messages from before this migration are history, not news.
UPDATE outbox SET notified_at = occurred_at;
CREATE INDEX outbox_unnotified ON outbox (seq) WHERE notified_at IS NULL;

CREATE TABLE mails (
    id                  TEXT PRIMARY KEY,
    recipient           TEXT NOT NULL,
    user_id             TEXT,
    action              TEXT NOT NULL,
    subject             TEXT NOT NULL,
    text_body           TEXT NOT NULL,
    html_body           TEXT NOT NULL,
    headers             TEXT NOT NULL,
    dedupe_key          TEXT NOT NULL UNIQUE,
    status              TEXT NOT NULL,
    provider            TEXT,
    provider_message_id TEXT,
    error               TEXT,
    attempts            INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX mails_newest ON mails (created_at DESC, id DESC);

CREATE TABLE mail_attempts (
    mail_id  TEXT NOT NULL REFERENCES mails (id) ON DELETE CASCADE,
    n        INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    provider TEXT NOT NULL,
    ok       INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error    TEXT,
    PRIMARY KEY (mail_id, n)
) STRICT;

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE mail_suppressions (
    address    TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
