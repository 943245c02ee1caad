-- Integrations organisers run themselves. Events carry channel labels; a webhook may be scoped
-- to events (a list of ids, or its owner's own) and to channels, and remembers who made it
-- (NULL: the bootstrap admin token). Lists are JSON text, NULL for none; the owner is not a
-- foreign key, so a webhook whose owner is deleted is not handed to anyone else: dispatch
-- finds no owner and sends it nothing scoped. The same SQL text serves both backends.
ALTER TABLE events ADD COLUMN channels TEXT;
ALTER TABLE webhooks ADD COLUMN owner_id TEXT;
ALTER TABLE webhooks ADD COLUMN scope TEXT;
