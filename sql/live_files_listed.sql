-- The committed per-sample files with what the manifest says of each. Binds: none
SELECT path, snapshot_date, model, dump_path, rows FROM live_files
ORDER BY snapshot_date, model, path
