-- The held-out statistics of some models of one night at their judged epochs, with the
-- gap / H of their verdict on that split. Binds: $snapshot_date, $models, $split
SELECT s.model, s.n, s.mean_ce, s.median_ce, s.p90_ce, v.normalised_gap, v.verdict
FROM summaries AS s
JOIN judged_epochs AS j
    ON j.snapshot_date = s.snapshot_date AND j.model = s.model
    AND s.epoch IS NOT DISTINCT FROM j.epoch
LEFT JOIN verdicts AS v
    ON v.snapshot_date = s.snapshot_date AND v.model = s.model AND v.heldout_split = s.split
WHERE s.snapshot_date = $snapshot_date AND s.split = $split AND list_contains($models, s.model)
ORDER BY s.model
