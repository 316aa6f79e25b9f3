-- Looker's data actions shown as buttons in Slack. A button carries only a signed key; the action
-- itself (Looker's link object, unchanged) waits here until the key expires, with the form Looker
-- gave for it once someone opened it.
CREATE TABLE IF NOT EXISTS data_actions (
    id          TEXT    PRIMARY KEY,
    looker      TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    form        TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS data_actions_by_expiry ON data_actions (expires_at);
