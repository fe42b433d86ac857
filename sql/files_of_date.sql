-- Dumps recorded for one snapshot date (what `rerun` re-reads). Binds: $snapshot_date
SELECT path, sha256 FROM ingested_files WHERE snapshot_date = $snapshot_date ORDER BY path
