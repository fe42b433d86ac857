-- The most recent job runs, with what made their numbers (lossgram version, settings
-- fingerprint), whether their pages were written and why it tripped the fail_on gate;
-- the nights as printed text.
-- Binds: $limit
SELECT run_id, command, started_at, finished_at,
       CASE WHEN len(gate) > 0 THEN status || ', gate tripped' ELSE status END AS status,
       array_to_string(snapshot_dates, ',') AS snapshot_dates, files_seen,
       files_ingested, files_rejected, files_unchanged, rows_ingested, rows_rejected,
       round(seconds, 3) AS seconds, error, lossgram_version, settings_fingerprint,
       reports_error, array_to_string(gate, '; ') AS gate
FROM job_runs ORDER BY started_at DESC LIMIT $limit
