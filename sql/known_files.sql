-- The latest ingest record of every dump path (for change detection). Binds: none
SELECT path, size, mtime, sha256
FROM ingested_files
QUALIFY row_number() OVER (PARTITION BY path ORDER BY snapshot_date DESC) = 1
