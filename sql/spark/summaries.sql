-- The per-split statistics of one night on Spark, as sql/summaries.sql computes them in
-- DuckDB (accuracy, ECE over equal-width confidence bins, Brier, clipped, ln C, label
-- entropy); the loss quantiles are left NULL and set on the driver from the fine
-- histograms (pipeline/analysis/sketches.py). Reads the temp view night_losses.
-- Binds: :snapshot_date, :ece_bins, :run_id
WITH calibration_bins AS (
    SELECT
        model, split, epoch,
        least(floor(confidence * :ece_bins), :ece_bins - 1) AS confidence_bin,
        sum(CAST(correct AS INT)) AS hits,
        sum(confidence) AS confidence_sum
    FROM night_losses
    WHERE confidence IS NOT NULL
    GROUP BY model, split, epoch, least(floor(confidence * :ece_bins), :ece_bins - 1)
),
calibration AS (
    SELECT model, split, epoch, sum(abs(hits - confidence_sum)) AS abs_gap_sum
    FROM calibration_bins
    GROUP BY model, split, epoch
),
label_counts AS (
    SELECT model, split, epoch, label, count(*) AS k
    FROM night_losses
    WHERE label IS NOT NULL
    GROUP BY model, split, epoch, label
),
label_entropy AS (
    SELECT model, split, epoch, -sum(k / total * ln(k / total)) AS label_entropy
    FROM (
        SELECT *, sum(k) OVER (PARTITION BY model, split, epoch) AS total FROM label_counts
    )
    GROUP BY model, split, epoch
),
per_split AS (
    SELECT
        model, split, epoch,
        count(*) AS n,
        avg(ce) AS mean_ce,
        stddev_pop(ce) AS std_ce,
        max(ce) AS max_ce,
        avg(CAST(correct AS INT)) AS accuracy,
        avg(confidence) AS mean_confidence,
        avg(brier) AS brier,
        count_if(clipped) AS clipped,
        max(n_classes) AS n_classes
    FROM night_losses
    GROUP BY model, split, epoch
)
SELECT
    CAST(:snapshot_date AS DATE) AS snapshot_date,
    p.model, p.split, p.epoch,
    p.n, p.mean_ce, p.std_ce,
    CAST(NULL AS DOUBLE) AS median_ce,
    CAST(NULL AS DOUBLE) AS p90_ce,
    CAST(NULL AS DOUBLE) AS p99_ce,
    p.max_ce, p.accuracy, p.mean_confidence,
    c.abs_gap_sum / p.n AS ece,
    p.brier, p.clipped, p.n_classes,
    ln(p.n_classes) AS ln_c,
    l.label_entropy,
    :run_id AS run_id
FROM per_split AS p
LEFT JOIN calibration AS c
    ON c.model = p.model AND c.split = p.split AND c.epoch <=> p.epoch
LEFT JOIN label_entropy AS l
    ON l.model = p.model AND l.split = p.split AND l.epoch <=> p.epoch
