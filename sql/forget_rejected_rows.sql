-- Drop a dump's recorded rejected rows for a date. Binds: $path, $snapshot_date
DELETE FROM rejected_rows WHERE path = $path AND snapshot_date = $snapshot_date
