-- The latest ingest record of every dump path, by when it was read (for change
-- detection). Binds: none
SELECT f.path, f.size, f.mtime, f.sha256
FROM ingested_files AS f LEFT JOIN job_runs AS j USING (run_id)
QUALIFY row_number() OVER (PARTITION BY f.path ORDER BY j.started_at DESC NULLS LAST,
                                                        f.snapshot_date DESC) = 1
