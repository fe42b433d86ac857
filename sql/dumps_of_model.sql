-- The dumps whose rows of one model a night holds (what `rerun --model` re-reads).
-- Binds: $snapshot_date, $model
SELECT DISTINCT dump_path FROM live_files
WHERE snapshot_date = $snapshot_date AND model = $model
ORDER BY dump_path
