-- Every committed night with its model and verdict counts, newest first, for
-- reports/index.html: a night without verdicts (no held-out split, or every dump
-- deferred) is listed too, with zero counts, so its page is written. Binds: none
SELECT
    nights.snapshot_date,
    (
        SELECT count(DISTINCT model) FROM summaries
        WHERE summaries.snapshot_date = nights.snapshot_date
    ) AS models,
    count(*) FILTER (WHERE verdict = 'overfit') AS overfit,
    count(*) FILTER (WHERE verdict = 'possible_overfit') AS possible_overfit,
    count(*) FILTER (WHERE verdict = 'underfit') AS underfit,
    count(*) FILTER (WHERE verdict = 'good_fit') AS good_fit,
    count(*) FILTER (WHERE verdict = 'insufficient_data') AS insufficient_data
FROM snapshots AS nights
LEFT JOIN verdicts USING (snapshot_date)
GROUP BY nights.snapshot_date
ORDER BY nights.snapshot_date DESC
