-- One night's verdicts, for its Parquet copy under tables/ (pipeline/warehouse/exports.py).
-- Binds: $snapshot_date
SELECT * FROM verdicts WHERE snapshot_date = $snapshot_date ORDER BY ALL
