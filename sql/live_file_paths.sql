-- The committed per-sample files, relative to the warehouse folder, in a stable order.
-- Binds: none
SELECT path FROM live_files ORDER BY snapshot_date, model, path
