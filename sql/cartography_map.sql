-- The cartography map as a grid (the page draws bins, not one mark per sample): samples
-- per cell of $cells x $cells over confidence [0, 1] and variability [0, 0.5], with
-- their mean correctness. Binds: $cells
SELECT
    least(floor(confidence * $cells), $cells - 1)::INTEGER AS confidence_bin,
    least(floor(variability * 2 * $cells), $cells - 1)::INTEGER AS variability_bin,
    count(*) AS n,
    avg(correctness) AS correctness
FROM sample_dynamics
GROUP BY ALL
ORDER BY ALL
