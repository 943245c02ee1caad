-- The timeline reads an event's sessions' connector jobs, waiting or given up, by subject.
CREATE INDEX jobs_of_subject ON jobs (subject);
