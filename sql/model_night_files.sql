-- The committed per-sample files of some models on one night (a report reads only
-- these). Binds: $snapshot_date, $models (list)
SELECT DISTINCT path FROM live_files
WHERE snapshot_date = $snapshot_date AND list_contains($models, model)
ORDER BY path
