-- Each live per-sample file with its night and the size it had when committed.
-- Binds: none
SELECT DISTINCT live.path, live.snapshot_date, sizes.size
FROM live_files AS live JOIN file_sizes AS sizes USING (path)
ORDER BY live.snapshot_date, live.path
