-- Drop the recorded rejected rows of the dumps read again, from the registered frame
-- `replaced_dumps` (path, snapshot_date). Binds: none
DELETE FROM rejected_rows WHERE (path, snapshot_date) IN (
    SELECT (path, snapshot_date) FROM replaced_dumps
)
