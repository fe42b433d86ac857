-- Samples per cartography region, and forgetting: ambiguous = variability at least
-- $ambiguous; otherwise easy-to-learn = confidence at least $easy, else hard-to-learn.
-- Binds: $ambiguous, $easy
SELECT
    CASE WHEN variability >= $ambiguous THEN 'ambiguous'
         WHEN confidence >= $easy THEN 'easy-to-learn'
         ELSE 'hard-to-learn' END AS region,
    count(*) AS samples,
    sum(forgetting_events) AS forgetting_events,
    count(*) FILTER (WHERE forgetting_events > 0) AS forgotten_samples
FROM sample_dynamics
GROUP BY region
ORDER BY region
