-- Every night with its verdict counts, newest first, for reports/index.html. Binds: none
SELECT
    snapshot_date,
    count(DISTINCT model) AS models,
    count(*) FILTER (WHERE verdict = 'overfit') AS overfit,
    count(*) FILTER (WHERE verdict = 'underfit') AS underfit,
    count(*) FILTER (WHERE verdict = 'good_fit') AS good_fit,
    count(*) FILTER (WHERE verdict = 'insufficient_data') AS insufficient_data
FROM verdicts
GROUP BY snapshot_date
ORDER BY snapshot_date DESC
