-- Webfilters: synchronous calls before an action; and a log of every call.

CREATE TABLE webfilters (
    id                             TEXT PRIMARY KEY,
    filter_type                    TEXT NOT NULL,
    url                            TEXT NOT NULL,
    enabled                        BOOLEAN NOT NULL,
    description                    TEXT,
    disable_filtering              BOOLEAN NOT NULL,
    disable_halt                   BOOLEAN NOT NULL,
    halt_on_4xx                    BOOLEAN NOT NULL,
    redirect_on_4xx                TEXT,
    halt_on_5xx                    BOOLEAN NOT NULL,
    redirect_on_5xx                TEXT,
    halt_on_request_exception      BOOLEAN NOT NULL,
    redirect_on_request_exception  TEXT,
    encoding                       TEXT NOT NULL,
    timeout_ms                     INTEGER NOT NULL,
    created_at                     TIMESTAMPTZ NOT NULL,
    updated_at                     TIMESTAMPTZ NOT NULL
);
CREATE INDEX webfilters_by_type ON webfilters (filter_type, id) WHERE enabled;

CREATE TABLE webfilter_calls (
    id            BIGSERIAL PRIMARY KEY,
    webfilter_id  TEXT NOT NULL REFERENCES webfilters (id) ON DELETE CASCADE,
    attempted_at  TIMESTAMPTZ NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error_class   TEXT,
    error         TEXT,
    response_body TEXT
);
CREATE INDEX webfilter_calls_of_filter ON webfilter_calls (webfilter_id, id);
