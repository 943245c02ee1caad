-- In-app notifications, preferences, the mail log with attempts, settings and suppressions.

CREATE TABLE notifications (
    id          BIGSERIAL PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    event_id    TEXT,
    title       TEXT NOT NULL,
    message     TEXT NOT NULL,
    accept      TEXT,
    received_at TIMESTAMPTZ NOT NULL,
    is_read     BOOLEAN NOT NULL,
    actions     JSONB NOT NULL,
    dedupe_key  TEXT UNIQUE
);
CREATE INDEX notifications_by_user ON notifications (user_id, received_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE NOT is_read;

CREATE TABLE notification_preferences (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
);

-- NULL until the notifier has planned the message's notifications and mails.
ALTER TABLE outbox ADD COLUMN notified_at TIMESTAMPTZ;
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
    headers             JSONB NOT NULL,
    dedupe_key          TEXT NOT NULL UNIQUE,
    status              TEXT NOT NULL,
    provider            TEXT,
    provider_message_id TEXT,
    error               TEXT,
    attempts            INTEGER NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX mails_newest ON mails (created_at DESC, id DESC);

CREATE TABLE mail_attempts (
    mail_id  TEXT NOT NULL REFERENCES mails (id) ON DELETE CASCADE,
    n        INTEGER NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    provider TEXT NOT NULL,
    ok       BOOLEAN NOT NULL,
    error    TEXT,
    PRIMARY KEY (mail_id, n)
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE mail_suppressions (
    address    TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
