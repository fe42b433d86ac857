-- Summary rows of one model up to one night, each night at its judged epoch (the view
-- judged_epochs), for the trend over nights. Binds: $snapshot_date, $model
SELECT s.*
FROM summaries AS s
JOIN judged_epochs AS j
    ON j.snapshot_date = s.snapshot_date AND j.model = s.model
    AND s.epoch IS NOT DISTINCT FROM j.epoch
WHERE s.model = $model AND s.snapshot_date <= $snapshot_date
ORDER BY s.snapshot_date, s.split
