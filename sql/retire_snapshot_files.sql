-- Retire the live files of one night (or of some of its models) that a rerun replaces.
-- Binds: $run_id, $snapshot_date, $models
INSERT INTO retired_files
SELECT DISTINCT path, now(), $run_id FROM live_files
WHERE snapshot_date = $snapshot_date AND in_models($models, model)
  AND path NOT IN (SELECT path FROM retired_files)
