-- Webfilters: synchronous calls before an action; and a log of every call. Times in Unix
-- microseconds; booleans 0/1.

CREATE TABLE webfilters (
    id                             TEXT PRIMARY KEY,
    filter_type                    TEXT NOT NULL,
    url                            TEXT NOT NULL,
    enabled                        INTEGER NOT NULL,
    description                    TEXT,
    disable_filtering              INTEGER NOT NULL,
    disable_halt                   INTEGER NOT NULL,
    halt_on_4xx                    INTEGER NOT NULL,
    redirect_on_4xx                TEXT,
    halt_on_5xx                    INTEGER NOT NULL,
    redirect_on_5xx                TEXT,
    halt_on_request_exception      INTEGER NOT NULL,
    redirect_on_request_exception  TEXT,
    encoding                       TEXT NOT NULL,
    timeout_ms                     INTEGER NOT NULL,
    created_at                     INTEGER NOT NULL,
    updated_at                     INTEGER NOT NULL
) STRICT;
CREATE INDEX webfilters_by_type ON webfilters (filter_type, id) WHERE enabled;

CREATE TABLE webfilter_calls (
    id            INTEGER PRIMARY KEY,
    webfilter_id  TEXT NOT NULL REFERENCES webfilters (id) ON DELETE CASCADE,
    attempted_at  INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error_class   TEXT,
    error         TEXT,
    response_body TEXT
) STRICT;
CREATE INDEX webfilter_calls_of_filter ON webfilter_calls (webfilter_id, id);
