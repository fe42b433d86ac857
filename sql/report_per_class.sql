-- Mean loss per class and split of one model on one night at one epoch.
-- Binds: $snapshot_date, $model, $epoch
SELECT label, split, count(*) AS n, avg(ce) AS mean_ce, avg(correct::INTEGER) AS accuracy
FROM losses
WHERE snapshot_date = $snapshot_date AND model = $model AND epoch IS NOT DISTINCT FROM $epoch
  AND label IS NOT NULL
GROUP BY ALL
ORDER BY label, split
