-- Someone waiting in Slack goes before scheduled work: 0 interactive, 1 scheduled.
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
CREATE INDEX IF NOT EXISTS jobs_ready_by_priority ON jobs (state, priority, run_after);
