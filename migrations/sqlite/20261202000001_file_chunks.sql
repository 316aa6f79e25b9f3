-- Files are kept in chunks, so a file of any size (a 1 GB attachment Looker streams) is written
-- and read a piece at a time, never held whole in memory. Files kept before this move into one
-- chunk each; `job_files` keeps one row per file (its creation time, for pruning).
CREATE TABLE IF NOT EXISTS job_file_chunks (
    file_id  INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    bytes    BLOB    NOT NULL,
    PRIMARY KEY (file_id, seq)
);
INSERT INTO job_file_chunks (file_id, seq, bytes) SELECT id, 0, bytes FROM job_files WHERE length(bytes) > 0;
UPDATE job_files SET bytes = x'';
