-- Reliability diagram: accuracy vs mean confidence in equal-width confidence bins, per split.
-- Binds: $snapshot_date, $model, $epoch, $bins
SELECT
    split,
    least(floor(confidence * $bins), $bins - 1)::INTEGER AS confidence_bin,
    count(*) AS n,
    avg(confidence) AS mean_confidence,
    avg(correct::INTEGER) AS accuracy
FROM losses
WHERE snapshot_date = $snapshot_date AND model = $model AND epoch IS NOT DISTINCT FROM $epoch
  AND confidence IS NOT NULL
GROUP BY ALL
ORDER BY split, confidence_bin
