-- Drop a dump's ingest record and rejected rows for a date before recording it anew.
-- Binds: $path, $snapshot_date
DELETE FROM ingested_files WHERE path = $path AND snapshot_date = $snapshot_date
