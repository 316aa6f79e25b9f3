-- Notifications from other applications: repeats held back within a sender's wait_duration, per
-- key (the sender, the channel and the title or dedupe_key), and told with the next post.
CREATE TABLE IF NOT EXISTS notify_repeats (
    key             TEXT     PRIMARY KEY,
    posted_job      INTEGER,
    until_at        INTEGER  NOT NULL,
    repeats         INTEGER  NOT NULL DEFAULT 0,
    since           INTEGER,
    posted_repeats  INTEGER  NOT NULL DEFAULT 0,
    posted_since    INTEGER
);

-- The Slack thread a thread_key's notifications share: who starts it, its ts once posted, and
-- the highest level posted in it (an error after infos is also shown in the channel).
CREATE TABLE IF NOT EXISTS notify_threads (
    key          TEXT     PRIMARY KEY,
    starter_job  INTEGER  NOT NULL,
    ts           TEXT,
    max_level    SMALLINT NOT NULL DEFAULT 0,
    created_at   INTEGER  NOT NULL
);
