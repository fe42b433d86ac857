-- All-classes loss histograms of one model on one night at one epoch, for the overlaid chart.
-- Binds: $snapshot_date, $model, $epoch
SELECT split, bin, lower, upper, count, fraction
FROM histograms
WHERE snapshot_date = $snapshot_date AND model = $model AND label IS NULL
  AND epoch IS NOT DISTINCT FROM $epoch
ORDER BY split, bin
