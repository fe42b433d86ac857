-- The most recent job runs. Binds: $limit
SELECT run_id, command, started_at, finished_at, status, snapshot_dates, files_seen,
       files_ingested, files_rejected, files_unchanged, rows_ingested, rows_rejected,
       round(seconds, 3) AS seconds, error
FROM job_runs ORDER BY started_at DESC LIMIT $limit
