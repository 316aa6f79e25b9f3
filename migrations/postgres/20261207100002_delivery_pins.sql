-- The channel each delivery name (`channel/sales`) was first found to be.
CREATE TABLE IF NOT EXISTS delivery_pins (
    name       TEXT    PRIMARY KEY,
    channel    TEXT    NOT NULL,
    pinned_at  BIGINT  NOT NULL
);
