-- The committed per-sample files, relative to the warehouse folder, in a stable order
-- (a batch file is listed once per dump in live_files, once here). Binds: none
SELECT path FROM (SELECT DISTINCT snapshot_date, model, path FROM live_files)
ORDER BY snapshot_date, model, path
