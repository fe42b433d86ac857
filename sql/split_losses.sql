-- The losses of one split of one (snapshot, model, epoch), sorted so the seeded bootstrap
-- does not depend on Parquet file order.
-- Binds: $snapshot_date, $model, $epoch, $split
SELECT ce FROM losses
WHERE snapshot_date = $snapshot_date AND model = $model AND split = $split
  AND epoch IS NOT DISTINCT FROM $epoch
ORDER BY ce
