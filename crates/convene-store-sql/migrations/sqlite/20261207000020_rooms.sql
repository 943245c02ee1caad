-- Rooms by more than one provider: an event may name the provider its sessions' rooms are
-- made with (NULL = the configured default), and a session keeps the recordings its provider
-- reported, as a JSON list.
ALTER TABLE events ADD COLUMN conference_provider TEXT;
ALTER TABLE sessions ADD COLUMN recordings TEXT NOT NULL DEFAULT '[]';
