-- When a dead job was reported in the alerts channel (NULL: not yet).
ALTER TABLE jobs ADD COLUMN alerted_at INTEGER;
