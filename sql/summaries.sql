-- Store the per-split statistics per (snapshot, model, split, epoch): accuracy,
-- calibration (ECE over 15 equal-width confidence bins), Brier, clipped count, ln C and
-- the entropy (nats) of the split's label distribution. The loss quantiles are left NULL
-- here and set by set_summary_quantiles.sql: a quantile_cont holds about two copies of
-- the group's losses, numpy one (pipeline/analysis/aggregates.py; figures in bench/README.md).
-- Binds: $snapshot_date, $ece_bins, $models (list; empty = every model), $run_id
INSERT INTO summaries
WITH samples AS (
    SELECT model, split, epoch, label, ce, correct, confidence, brier, clipped, n_classes
    FROM losses
    WHERE snapshot_date = $snapshot_date
      AND in_models($models, model)
),
calibration_bins AS (
    SELECT
        model, split, epoch,
        least(floor(confidence * $ece_bins), $ece_bins - 1) AS confidence_bin,
        sum(correct::INTEGER) AS hits,
        sum(confidence) AS confidence_sum
    FROM samples
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
    FROM samples
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
        stddev_pop(ce) AS std_ce,
        max(ce) AS max_ce,
        avg(correct::INTEGER) AS accuracy,
        avg(confidence) AS mean_confidence,
        avg(brier) AS brier,
        count(*) FILTER (WHERE clipped) AS clipped,
        max(n_classes) AS n_classes
    FROM samples
    GROUP BY ALL
)
SELECT
    $snapshot_date::DATE AS snapshot_date,
    per_split.model, per_split.split, per_split.epoch,
    n, mean_ce, std_ce,
    NULL::DOUBLE AS median_ce, NULL::DOUBLE AS p90_ce, NULL::DOUBLE AS p99_ce,
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
