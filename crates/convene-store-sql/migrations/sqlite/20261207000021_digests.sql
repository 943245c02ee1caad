-- Digests: a person's time zone (digests go out at a local hour), a per-kind mail cadence on
-- the email preference (NULL = instant), and what waits for a person's next digest. An item
-- leaves only in the transaction that writes the digest mail, so none is sent twice or lost.
ALTER TABLE users ADD COLUMN timezone TEXT;
ALTER TABLE notification_preferences ADD COLUMN cadence TEXT;

CREATE TABLE digest_items (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    -- 'daily' or 'weekly'.
    cadence    TEXT NOT NULL,
    -- The digest it goes out with: the cadence's next local hour when it arrived.
    due_at     INTEGER NOT NULL,
    title      TEXT NOT NULL,
    -- The notification's message (HTML) and the mail's text, as rendered for the person.
    message    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX digest_items_due ON digest_items (due_at);
CREATE INDEX digest_items_of_user ON digest_items (user_id, cadence, due_at);
