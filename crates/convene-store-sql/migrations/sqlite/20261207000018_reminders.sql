-- Reminders: each event and session keeps its offsets before the start (a JSON text list), and
-- `reminders` holds one row per planned reminder, keyed by what it reminds of, its offset and
-- the start it was planned for, so a reminder for one start is never sent twice.
ALTER TABLE events ADD COLUMN reminders TEXT NOT NULL DEFAULT '["24h","1h"]';
ALTER TABLE sessions ADD COLUMN reminders TEXT NOT NULL DEFAULT '["24h","1h"]';

CREATE TABLE reminders (
    -- The event's id, or the session's.
    subject    TEXT NOT NULL,
    event_id   TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    session_id TEXT,
    offset_s   INTEGER NOT NULL,
    label      TEXT NOT NULL,
    starts_at  INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    -- Set when sent, or when passed over for a nearer reminder of the same start.
    settled_at INTEGER,
    sent       INTEGER NOT NULL DEFAULT 0 CHECK (sent IN (0, 1)),
    PRIMARY KEY (subject, offset_s, starts_at)
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE settled_at IS NULL;
CREATE INDEX reminders_event ON reminders (event_id);

-- The default offsets of events and sessions that start later than now.
INSERT INTO reminders (subject, event_id, session_id, offset_s, label, starts_at, due_at)
SELECT e.id, e.id, NULL, o.s, o.t, e.starts_at, e.starts_at - o.s * 1000000
FROM events e, (SELECT 86400 AS s, '24h' AS t UNION ALL SELECT 3600, '1h') o
WHERE e.starts_at IS NOT NULL
  AND e.starts_at - o.s * 1000000 > CAST(strftime('%s', 'now') AS INTEGER) * 1000000;
INSERT INTO reminders (subject, event_id, session_id, offset_s, label, starts_at, due_at)
SELECT s.id, s.event_id, s.id, o.s, o.t, s.starts_at, s.starts_at - o.s * 1000000
FROM sessions s, (SELECT 86400 AS s, '24h' AS t UNION ALL SELECT 3600, '1h') o
WHERE s.event_id IS NOT NULL AND s.deleted_at IS NULL
  AND s.starts_at - o.s * 1000000 > CAST(strftime('%s', 'now') AS INTEGER) * 1000000;
