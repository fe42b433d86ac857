-- The inbox folders one date's dumps were read from. Binds: $snapshot_date
SELECT DISTINCT inbox FROM ingested_files WHERE snapshot_date = $snapshot_date ORDER BY inbox
