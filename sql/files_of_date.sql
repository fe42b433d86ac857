-- Dumps recorded for one snapshot date (what `rerun` re-reads): those ingested first, so a
-- rerun keeps the same dump where two bring the same samples. Binds: $snapshot_date
SELECT path, inbox, size, mtime, sha256 FROM ingested_files
WHERE snapshot_date = $snapshot_date
ORDER BY status <> 'ingested', path
