-- One night's summaries, for its Parquet copy under tables/ (pipeline/warehouse/exports.py).
-- Binds: $snapshot_date
SELECT * FROM summaries WHERE snapshot_date = $snapshot_date ORDER BY ALL
