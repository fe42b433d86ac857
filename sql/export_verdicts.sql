-- One night's verdicts, for its Parquet copy under tables/ (pipeline/exports.py).
-- Binds: $snapshot_date
SELECT * FROM verdicts WHERE snapshot_date = $snapshot_date ORDER BY ALL
