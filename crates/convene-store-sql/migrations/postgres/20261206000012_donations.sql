-- Donations of people, write-once as on Action Network, and per sync profile the Action Network
-- donation each is paired with: a pairing's existence means "done", so nothing is sent or
-- pulled twice. Times are Unix microseconds; the same SQL text serves both backends.
CREATE TABLE donations (
    id               TEXT PRIMARY KEY,
    person_id        TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    amount           TEXT NOT NULL,
    currency         TEXT NOT NULL,
    received_at      BIGINT NOT NULL,
    recurrence       TEXT,
    fundraising_page TEXT,
    referrer         TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX donations_person ON donations (person_id, received_at);

CREATE TABLE osdi_donations (
    profile_id  TEXT NOT NULL REFERENCES osdi_profiles (id) ON DELETE CASCADE,
    donation_id TEXT NOT NULL REFERENCES donations (id) ON DELETE CASCADE,
    remote_id   TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('local', 'remote')),
    synced_at   BIGINT NOT NULL,
    PRIMARY KEY (profile_id, donation_id)
);
CREATE UNIQUE INDEX osdi_donations_remote ON osdi_donations (profile_id, remote_id);
