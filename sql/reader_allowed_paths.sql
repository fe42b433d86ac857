-- A user's query may read these files alone (the committed per-sample files): no folder
-- is open to it, so no statement can write a file beside them or over them.
-- Binds: $paths
SET allowed_paths = $paths
