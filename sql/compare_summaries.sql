-- The held-out statistics of some (night, model) entries at their judged epochs, with the
-- gap / H of their verdict on that split. Binds: $dates, $models (entry i is dates[i],
-- models[i]), $split
WITH entries AS (
    SELECT unnest($dates::DATE[]) AS snapshot_date, unnest($models::VARCHAR[]) AS model
)
SELECT s.snapshot_date, s.model, s.n, s.mean_ce, s.median_ce, s.p90_ce, v.normalised_gap,
    v.verdict
FROM summaries AS s
JOIN entries USING (snapshot_date, model)
JOIN judged_epochs AS j
    ON j.snapshot_date = s.snapshot_date AND j.model = s.model
    AND s.epoch IS NOT DISTINCT FROM j.epoch
LEFT JOIN verdicts AS v
    ON v.snapshot_date = s.snapshot_date AND v.model = s.model AND v.heldout_split = s.split
WHERE s.split = $split
ORDER BY s.snapshot_date, s.model
