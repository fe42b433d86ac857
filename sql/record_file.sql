-- Record one dump's ingest. Binds: $path, $size, $mtime, $sha256, $snapshot_date, $status,
-- $rows, $rows_ignored, $rows_rejected, $error, $run_id
INSERT INTO ingested_files VALUES (
    $path, $size, $mtime, $sha256, $snapshot_date, $status, $rows, $rows_ignored,
    $rows_rejected, $error, $run_id
)
