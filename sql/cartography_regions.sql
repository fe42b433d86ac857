-- Samples per cartography region with the rank cut that made it (the least variable
-- ambiguous sample, the least confident easy-to-learn one, the most confident
-- hard-to-learn one), forgetting events and the never-learnt samples. Binds: none
SELECT
    region,
    count(*) AS samples,
    CASE region
        WHEN 'ambiguous' THEN min(variability)
        WHEN 'easy-to-learn' THEN min(confidence)
        ELSE max(confidence)
    END AS cut,
    sum(forgetting_events) AS forgetting_events,
    count(*) FILTER (WHERE forgetting_events > 0) AS forgotten_samples,
    count(*) FILTER (WHERE never_learnt) AS never_learnt
FROM sample_dynamics
WHERE region IS NOT NULL
GROUP BY region
ORDER BY region
