-- The latest ingest record of every dump path, oldest first, with the inbox it was read
-- from (for change detection by path inside the inbox), the night it was rejected in (NULL
-- when ingested), and whether a rejection was the environment's (permission, I/O): such a
-- dump is read again even unchanged. A dump given up at dump_timeout is not (it would cost
-- every night the whole limit again): its message names the rerun. Binds: none
SELECT
    f.path, f.inbox, f.size, f.mtime, f.sha256,
    CASE WHEN f.status = 'rejected' THEN f.snapshot_date END AS rejected_night,
    f.status = 'rejected' AND regexp_matches(
        coalesce(f.error, ''),
        'Permission denied|permission denied|Input/output error|I/O error'
    ) AS retry
FROM ingested_files AS f LEFT JOIN job_runs AS j USING (run_id)
QUALIFY row_number() OVER (PARTITION BY f.path ORDER BY j.started_at DESC NULLS LAST,
                                                        f.snapshot_date DESC) = 1
ORDER BY j.started_at NULLS FIRST, f.snapshot_date, f.path
