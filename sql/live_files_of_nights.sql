-- The committed per-sample files of some nights (those a run lands), as
-- live_files_listed. Binds: $nights
SELECT path, snapshot_date, model, dump_path, rows FROM live_files
WHERE snapshot_date IN (SELECT unnest($nights::DATE[]))
ORDER BY snapshot_date, model, path
