-- The headers of each answer, for the delivery inspector: a JSON array of [name, value] pairs,
-- as many as the answer had up to a limit, values cut short. NULL where nothing answered, and
-- on rows logged before this column existed.
ALTER TABLE attempts ADD COLUMN response_headers TEXT;
ALTER TABLE webfilter_calls ADD COLUMN response_headers TEXT;
