-- API tokens may be limited to scopes and to events: each a JSON text list, NULL for "not
-- limited" (every token made before this one). The same SQL text serves both backends.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT;
ALTER TABLE api_tokens ADD COLUMN event_ids TEXT;
