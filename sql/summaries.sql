-- The per-split statistics of one night per (model, split, epoch): accuracy,
-- calibration (ECE over equal-width confidence bins), Brier, clipped count, ln C and the
-- entropy (nats) of the split's label distribution. The loss quantiles are left NULL
-- here and set from each split's losses by the engine (pipeline/analysis/aggregates.py:
-- exact in numpy, or from Spark's fine sketches; figures in bench/README.md).
-- Engine-neutral: reads the night's rows from the view night_losses, which each engine
-- provides; DuckDB runs it as written, Spark as sql/spark/summaries.sql, generated from
-- it (scripts/generate_spark_sql.py). weighted_mean_ce is PyTorch's reduction='mean':
-- sum(ce) / sum(class_weight), each row's class_weight being w_y for a class index with
-- class weights, else 1 (files from before that column count 1).
-- Binds: $snapshot_date, $ece_bins, $run_id
WITH calibration_bins AS (
    SELECT
        model, split, epoch,
        least(floor(confidence * $ece_bins), $ece_bins - 1) AS confidence_bin,
        sum(CAST(correct AS INTEGER)) AS hits,
        sum(confidence) AS confidence_sum
    FROM night_losses
    WHERE confidence IS NOT NULL
    GROUP BY ALL
),
calibration AS (
    SELECT model, split, epoch, sum(abs(hits - confidence_sum)) AS abs_gap_sum
    FROM calibration_bins
    GROUP BY ALL
),
label_counts AS (
    SELECT model, split, epoch, label, count(*) AS k
    FROM night_losses
    WHERE label IS NOT NULL
    GROUP BY ALL
),
label_entropy AS (
    SELECT model, split, epoch, -sum(k / total * ln(k / total)) AS label_entropy
    FROM (
        SELECT *, sum(k) OVER (PARTITION BY model, split, epoch) AS total FROM label_counts
    )
    GROUP BY ALL
),
per_split AS (
    SELECT
        model, split, epoch,
        count(*) AS n,
        avg(ce) AS mean_ce,
        sum(ce) / sum(coalesce(class_weight, 1.0)) AS weighted_mean_ce,
        stddev_pop(ce) AS std_ce,
        max(ce) AS max_ce,
        avg(CAST(correct AS INTEGER)) AS accuracy,
        avg(confidence) AS mean_confidence,
        avg(brier) AS brier,
        count(*) FILTER (WHERE clipped) AS clipped,
        max(n_classes) AS n_classes
    FROM night_losses
    GROUP BY ALL
)
SELECT
    CAST($snapshot_date AS DATE) AS snapshot_date,
    per_split.model, per_split.split, per_split.epoch,
    n, mean_ce, weighted_mean_ce, std_ce,
    CAST(NULL AS DOUBLE) AS median_ce,
    CAST(NULL AS DOUBLE) AS p90_ce,
    CAST(NULL AS DOUBLE) AS p99_ce,
    max_ce, accuracy, mean_confidence,
    calibration.abs_gap_sum / n AS ece,
    brier, clipped, n_classes,
    ln(n_classes) AS ln_c,
    label_entropy.label_entropy,
    $run_id AS run_id
FROM per_split
LEFT JOIN calibration
    ON calibration.model = per_split.model AND calibration.split = per_split.split
    AND calibration.epoch IS NOT DISTINCT FROM per_split.epoch
LEFT JOIN label_entropy
    ON label_entropy.model = per_split.model AND label_entropy.split = per_split.split
    AND label_entropy.epoch IS NOT DISTINCT FROM per_split.epoch
ORDER BY ALL
