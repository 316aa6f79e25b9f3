-- A claim seeks the first due jobs of each lane that has room (and of no lane) instead of sorting
-- every due job: with thousands queued in one busy lane, that cost milliseconds a claim.
CREATE INDEX IF NOT EXISTS jobs_due_by_lane ON jobs (lane, priority, run_after, id) WHERE state = 'queued';
