-- Make a run's placed files live, from the registered frame `placed_files` (path,
-- snapshot_date, model, dump_path, rows). Binds: $run_id, $loss_fingerprint
INSERT INTO live_files
SELECT path, snapshot_date, model, dump_path, rows, $run_id, $loss_fingerprint
FROM placed_files
