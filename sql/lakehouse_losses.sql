-- One night's per-sample losses for the lakehouse's `losses` Delta table: sample_id as
-- text (dumps differ: integers here, strings there; a Delta column has one type).
-- Binds: $snapshot_date
SELECT * REPLACE (CAST(sample_id AS VARCHAR) AS sample_id)
FROM losses
WHERE snapshot_date = $snapshot_date
