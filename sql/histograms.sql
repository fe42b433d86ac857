-- The loss histograms of one night per (model, split, epoch), for all classes (label
-- NULL) and per class, on a fixed bin scheme: bins are [lower, upper). The bin is guessed
-- from the scheme's formula, then moved by one where float rounding put it across a
-- stored edge: an equi-join, far cheaper than an ASOF join on the edges (bench/README.md).
-- Engine-neutral: reads the night's rows from the view night_losses and the scheme from
-- bin_edges (bin, lower, upper), which each engine provides; DuckDB runs it as written,
-- Spark as sql/spark/histograms.sql, generated from it (scripts/generate_spark_sql.py).
-- Binds: $snapshot_date, $scheme_id, $guess_kind ('log' or 'linear'), $log_low,
-- $bins_per_decade, $linear_width, $last_bin, $run_id
WITH guessed AS (
    SELECT
        model, split, epoch, label, ce, weight,
        CAST(least($last_bin, greatest(0, CASE
            -- log: [0, low) is bin 0, then bins_per_decade bins per decade from low
            WHEN $guess_kind = 'log' THEN
                CASE WHEN ce < $log_low THEN 0
                     ELSE 1 + floor($bins_per_decade * log10(ce / $log_low)) END
            -- linear: bins of width linear_width from 0
            ELSE floor(ce / $linear_width)
        END)) AS INTEGER) AS guess
    FROM night_losses
),
binned AS (
    SELECT
        guessed.model, guessed.split, guessed.epoch, guessed.label, guessed.weight,
        CASE
            WHEN guessed.ce < edges.lower THEN guessed.guess - 1
            WHEN guessed.ce >= edges.upper THEN guessed.guess + 1
            ELSE guessed.guess
        END AS bin
    FROM guessed JOIN bin_edges AS edges ON edges.bin = guessed.guess
),
counted AS (
    SELECT
        model, split, epoch, label, bin,
        grouping(label) = 1 AS all_classes,
        count(*) AS count,
        sum(weight) AS weight_sum
    FROM binned
    GROUP BY GROUPING SETS ((model, split, epoch, bin), (model, split, epoch, label, bin))
)
SELECT
    CAST($snapshot_date AS DATE) AS snapshot_date,
    counted.model,
    counted.split,
    counted.epoch,
    CASE WHEN counted.all_classes THEN NULL ELSE counted.label END AS label,
    $scheme_id AS scheme_id,
    counted.bin,
    edges.lower,
    edges.upper,
    counted.count,
    counted.weight_sum,
    counted.count / sum(counted.count) OVER (
        PARTITION BY counted.model, counted.split, counted.epoch, counted.label,
            counted.all_classes
    ) AS fraction,
    $run_id AS run_id
FROM counted JOIN bin_edges AS edges ON edges.bin = counted.bin
WHERE counted.all_classes OR counted.label IS NOT NULL
ORDER BY ALL
