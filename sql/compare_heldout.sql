-- The held-out losses of some (night, model) entries, each at its judged epoch, sorted
-- (for KS and W1 between each pair). Binds: $dates, $models (entry i is dates[i],
-- models[i]), $split
WITH entries AS (
    SELECT unnest($dates::DATE[]) AS snapshot_date, unnest($models::VARCHAR[]) AS model
)
SELECT l.snapshot_date, l.model, l.ce
FROM losses AS l
JOIN entries USING (snapshot_date, model)
JOIN judged_epochs AS j
    ON j.snapshot_date = l.snapshot_date AND j.model = l.model
    AND l.epoch IS NOT DISTINCT FROM j.epoch
WHERE l.split = $split
ORDER BY l.snapshot_date, l.model, l.ce
