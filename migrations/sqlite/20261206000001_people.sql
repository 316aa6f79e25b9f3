-- The audit of questions and data actions: who asked, as which Looker user, what ran, where
-- the answer went and what came of it. Kept LOOKERBOT_AUDIT_DAYS.
CREATE TABLE IF NOT EXISTS audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    team         TEXT    NOT NULL,
    slack_user   TEXT    NOT NULL,
    looker_user  TEXT,
    kind         TEXT    NOT NULL,
    what         TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    audience     TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    -- One entry per job (or click) however often it runs.
    entry_key    TEXT    UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit (slack_user, at);

-- Looker accounts people linked through Looker's OAuth; the tokens sealed (never in clear).
CREATE TABLE IF NOT EXISTS looker_links (
    looker       TEXT    NOT NULL,
    team         TEXT    NOT NULL,
    slack_user   TEXT    NOT NULL,
    looker_user  TEXT    NOT NULL,
    sealed       TEXT    NOT NULL,
    linked_at    INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (looker, team, slack_user)
);

-- Sign-ins under way: the OAuth state, what it stands for, used once.
CREATE TABLE IF NOT EXISTS sign_ins (
    state            TEXT    PRIMARY KEY,
    looker           TEXT    NOT NULL,
    team             TEXT    NOT NULL,
    slack_user       TEXT    NOT NULL,
    sealed_verifier  TEXT    NOT NULL,
    browser          TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);
