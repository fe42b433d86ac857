-- One night's histograms, for its Parquet copy under tables/ (pipeline/warehouse/exports.py).
-- Binds: $snapshot_date
SELECT * FROM histograms WHERE snapshot_date = $snapshot_date ORDER BY ALL
