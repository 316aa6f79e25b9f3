-- When a dead job was reported in the alerts channel (NULL: not yet).
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS alerted_at BIGINT;
CREATE INDEX IF NOT EXISTS jobs_dead_unalerted ON jobs (id) WHERE state = 'dead' AND alerted_at IS NULL;
