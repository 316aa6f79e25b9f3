-- The durable work queue on PostgreSQL, for several replicas (and Heroku): the same columns as
-- the SQLite schema, times in unix milliseconds. Jobs are claimed with FOR UPDATE SKIP LOCKED;
-- dedupe keys are a unique constraint, so two replicas given the same event record it once.
CREATE TABLE IF NOT EXISTS jobs (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT     NOT NULL,
    payload       TEXT     NOT NULL,
    summary       TEXT     NOT NULL,
    dedupe_key    TEXT     UNIQUE,
    state         TEXT     NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'dead')),
    priority      SMALLINT NOT NULL DEFAULT 1,
    attempts      INTEGER  NOT NULL DEFAULT 0,
    max_attempts  INTEGER  NOT NULL,
    run_after     BIGINT   NOT NULL,
    lease_owner   TEXT,
    lease_until   BIGINT,
    last_error    TEXT,
    progress      TEXT,
    created_at    BIGINT   NOT NULL,
    updated_at    BIGINT   NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (priority, run_after) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_dead ON jobs (id) WHERE state = 'dead';

-- Files a job needs, in chunks, so that none is ever held whole.
CREATE TABLE IF NOT EXISTS job_files (
    id          BIGSERIAL PRIMARY KEY,
    created_at  BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_file_chunks (
    file_id  BIGINT  NOT NULL REFERENCES job_files (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    bytes    BYTEA   NOT NULL,
    PRIMARY KEY (file_id, seq)
);

-- Data actions behind buttons, until their keys expire.
CREATE TABLE IF NOT EXISTS data_actions (
    id          TEXT   PRIMARY KEY,
    looker      TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    form        TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS data_actions_by_expiry ON data_actions (expires_at);
