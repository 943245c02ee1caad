-- Each connector's failing streak (dashboard, conferencing, mail, osdi): set by the first
-- failure after a success, cleared by the next success. The conditional update that moves it
-- decides, whichever node sees it, so the warning and the recovery are logged once per streak.
CREATE TABLE connector_health (
    connector     TEXT PRIMARY KEY,
    failing_since INTEGER,
    last_error    TEXT
) STRICT;

-- The W3C traceparent of the request that caused a message, copied to its deliveries, so a
-- delivery attempt's span joins the trace of the change that caused it. NULL when untraced.
ALTER TABLE outbox ADD COLUMN traceparent TEXT;
ALTER TABLE deliveries ADD COLUMN traceparent TEXT;
