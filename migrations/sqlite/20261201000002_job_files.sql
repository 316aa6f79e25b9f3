-- Files a job needs that Looker sent with its request (a dashboard's PNG, PDF or CSV), kept
-- apart from the job's JSON payload so they are stored once, as bytes, not as base64 text.
CREATE TABLE IF NOT EXISTS job_files (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    bytes       BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
