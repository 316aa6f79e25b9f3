-- What a job has done so far (which messages it posted), so a job resumed after a crash, a lease
-- expiry or a retry skips what already happened. JSON, written by the job as it goes.
ALTER TABLE jobs ADD COLUMN progress TEXT;
