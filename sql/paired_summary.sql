-- How the shared samples moved from model A to model B: counts better (B's loss lower by
-- more than $tolerance), worse, the same, and the mean difference. Binds: $tolerance
SELECT
    count(*) AS shared,
    count(*) FILTER (WHERE difference < -$tolerance) AS better,
    count(*) FILTER (WHERE difference > $tolerance) AS worse,
    count(*) FILTER (WHERE abs(difference) <= $tolerance) AS same,
    avg(difference) AS mean_difference
FROM paired_losses
