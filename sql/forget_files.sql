-- Drop earlier ingest records of the dumps read again (under their path now, or the one
-- they had before the inbox moved), from the registered frame `replaced_dumps`
-- (path, snapshot_date). Binds: none
DELETE FROM ingested_files WHERE (path, snapshot_date) IN (
    SELECT (path, snapshot_date) FROM replaced_dumps
)
