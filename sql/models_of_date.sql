-- The models a night holds. Binds: $snapshot_date
SELECT DISTINCT model FROM live_files WHERE snapshot_date = $snapshot_date ORDER BY model
