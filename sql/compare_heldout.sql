-- The held-out losses of some models of one night, each at its judged epoch, sorted (for
-- KS and W1 between each pair). Binds: $snapshot_date, $models, $split
SELECT l.model, l.ce
FROM losses AS l
JOIN judged_epochs AS j
    ON j.snapshot_date = l.snapshot_date AND j.model = l.model
    AND l.epoch IS NOT DISTINCT FROM j.epoch
WHERE l.snapshot_date = $snapshot_date AND l.split = $split AND list_contains($models, l.model)
ORDER BY l.model, l.ce
