-- Every summary row of one model up to one night: the statistics table and both trends.
-- Binds: $snapshot_date, $model
SELECT * FROM summaries
WHERE model = $model AND snapshot_date <= $snapshot_date
ORDER BY snapshot_date, split, epoch
