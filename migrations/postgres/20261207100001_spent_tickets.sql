-- Connect links used: a link opens one sign-in, never a second (kept a day, then pruned).
CREATE TABLE IF NOT EXISTS spent_tickets (
    ticket    TEXT    PRIMARY KEY,
    spent_at  BIGINT  NOT NULL
);
