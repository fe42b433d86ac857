-- Each split's fine loss sketch (pipeline/analysis/sketches.py): FINE_PER_DECADE log bins a
-- decade from FINE_LOW, keeping count, sum, min and max per bin, so the driver gets the
-- quantiles, KS, W1, AUC, TPR and the bootstrap in memory O(bins), not O(rows).
-- Reads the temp view night_losses. Binds: :fine_low, :fine_per_decade, :fine_last_bin
SELECT
    model, split, epoch,
    CAST(CASE
        WHEN ce < :fine_low THEN 0
        ELSE least(:fine_last_bin, 1 + floor(:fine_per_decade * log10(ce / :fine_low)))
    END AS INT) AS bin,
    count(*) AS count,
    sum(ce) AS total,
    min(ce) AS low,
    max(ce) AS high
FROM night_losses
GROUP BY model, split, epoch, bin
