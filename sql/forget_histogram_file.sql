-- A night's histogram file is no longer listed (its rows are in histogram_rows, or the
-- night has none). Binds: $snapshot_date
DELETE FROM histogram_files WHERE snapshot_date = $snapshot_date
