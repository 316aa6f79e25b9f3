-- A claim seeks the most urgent due job of each lane that has room (and of no lane) instead of
-- sorting every due job: with thousands queued in one busy lane, that was the writer's whole time.
CREATE INDEX IF NOT EXISTS jobs_due_by_lane ON jobs (state, lane, priority, run_after, id);
-- Jobs whose worker died: found without reading the queued ones.
CREATE INDEX IF NOT EXISTS jobs_by_lease ON jobs (state, lease_until);
