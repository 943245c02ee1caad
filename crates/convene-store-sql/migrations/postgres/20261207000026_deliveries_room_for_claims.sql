-- A claim sets only the lease columns, which no index holds: with room left on each page it is
-- a heap-only update, adding no index entries. New pages leave that room; old ones as they fill.
ALTER TABLE deliveries SET (fillfactor = 50);
