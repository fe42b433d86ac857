-- Record how a run ended. Binds: $run_id, $status, $snapshot_dates, $files_seen,
-- $files_ingested, $files_rejected, $files_unchanged, $rows_ingested, $rows_rejected,
-- $seconds, $error
UPDATE job_runs SET
    finished_at = now(), status = $status, snapshot_dates = $snapshot_dates,
    files_seen = $files_seen, files_ingested = $files_ingested,
    files_rejected = $files_rejected, files_unchanged = $files_unchanged,
    rows_ingested = $rows_ingested, rows_rejected = $rows_rejected,
    seconds = $seconds, error = $error
WHERE run_id = $run_id
