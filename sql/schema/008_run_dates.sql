-- job_runs.snapshot_dates as a list of dates (it held the nights as comma-joined text):
-- a date is a date end to end, and is turned into text only where it is printed. The
-- text is read with or without list brackets, so a catalog whose column is a list
-- already (a migration run again) converts too.
ALTER TABLE job_runs ALTER COLUMN snapshot_dates SET DATA TYPE DATE[] USING (
    CASE
        WHEN trim(coalesce(snapshot_dates::VARCHAR, ''), '[]') = '' THEN []::DATE[]
        ELSE list_transform(
            string_split(trim(snapshot_dates::VARCHAR, '[]'), ','),
            lambda night: trim(night)::DATE
        )
    END
);
COMMENT ON COLUMN job_runs.snapshot_dates IS 'The nights it committed.';
