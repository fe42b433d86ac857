-- The latest ingest record of every dump path, oldest first, with the inbox it was read
-- from (for change detection by path inside the inbox). Binds: none
SELECT f.path, f.inbox, f.size, f.mtime, f.sha256
FROM ingested_files AS f LEFT JOIN job_runs AS j USING (run_id)
QUALIFY row_number() OVER (PARTITION BY f.path ORDER BY j.started_at DESC NULLS LAST,
                                                        f.snapshot_date DESC) = 1
ORDER BY j.started_at NULLS FIRST, f.snapshot_date, f.path
