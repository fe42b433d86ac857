-- Drop earlier ingest records of the dumps being recorded again, from the registered frame
-- `recorded_files` (path, snapshot_date). Binds: none
DELETE FROM ingested_files WHERE (path, snapshot_date) IN (
    SELECT (path, snapshot_date) FROM recorded_files
)
