-- A job's lane (the Looker it queries, say): workers skip lanes already busy to their cap, so one
-- slow Looker cannot take every worker. What a running job waits for, for `lookerbot jobs`.
ALTER TABLE jobs ADD COLUMN lane TEXT;
ALTER TABLE jobs ADD COLUMN waiting TEXT;

-- Paces kept in the database (per Slack channel, per Web API method after a 429): the theoretical
-- arrival time of the next call, in unix milliseconds (GCRA).
CREATE TABLE IF NOT EXISTS paces (
    key  TEXT    PRIMARY KEY,
    tat  INTEGER NOT NULL
);
