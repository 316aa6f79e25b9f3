-- A job's lane (the Looker it queries, say): workers skip lanes already busy to their cap, so one
-- slow Looker cannot take every worker. What a running job waits for, for `lookerbot jobs`.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS lane TEXT;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS waiting TEXT;

-- Slack's pace shared by every replica (per channel, per Web API method after a 429): the
-- theoretical arrival time of the next call, in unix milliseconds (GCRA), reserved atomically.
CREATE TABLE IF NOT EXISTS paces (
    key  TEXT   PRIMARY KEY,
    tat  BIGINT NOT NULL
);
