-- A night's committed histogram file is replaced: it waits in retired_files until no
-- reader can still need it. Binds: $snapshot_date
INSERT OR IGNORE INTO retired_files
SELECT path, now(), run_id FROM histogram_files WHERE snapshot_date = $snapshot_date
