-- Mean loss per class and split of one model on one night at one epoch, with the class's
-- name where the dumps declared one (class_names). Binds: $snapshot_date, $model, $epoch
SELECT l.label, coalesce(c.name, CAST(l.label AS VARCHAR)) AS class, l.split,
    count(*) AS n, avg(l.ce) AS mean_ce, avg(l.correct::INTEGER) AS accuracy
FROM losses AS l
LEFT JOIN class_names AS c
    ON c.snapshot_date = l.snapshot_date AND c.model = l.model AND c.label = l.label
WHERE l.snapshot_date = $snapshot_date AND l.model = $model
  AND l.epoch IS NOT DISTINCT FROM $epoch AND l.label IS NOT NULL
GROUP BY ALL
ORDER BY l.label, l.split
