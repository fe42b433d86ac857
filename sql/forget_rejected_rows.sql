-- Drop the recorded rejected rows of the dumps being recorded again, from the registered
-- frame `recorded_files` (path, snapshot_date). Binds: none
DELETE FROM rejected_rows WHERE (path, snapshot_date) IN (
    SELECT (path, snapshot_date) FROM recorded_files
)
