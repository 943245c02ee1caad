-- A one-person sync (a realtime profile's answer to a local change) runs beside the profile's
-- batch run, so a change reaches Action Network within seconds even during a long walk: the
-- one-active-run rule holds for batch runs only. One-person syncs coalesce per person in the
-- connector job queue instead.
DROP INDEX osdi_runs_one_active;
CREATE UNIQUE INDEX osdi_runs_one_active ON osdi_runs (profile_id)
    WHERE state IN ('queued', 'running') AND job <> 'person';
