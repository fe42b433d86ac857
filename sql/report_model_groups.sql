-- What a model's page counts from its losses on one night at one epoch, in one read of
-- them (GROUPING SETS: each set is a hash table fed by the same scan): the equal-width
-- loss histogram per split (kind 'linear'), the mean loss and accuracy per class and
-- split ('class', the class named where the dumps declared class_names), and the
-- reliability diagram per split ('calibration', equal-width confidence bins).
-- The linear bins are [bin * $width, (bin + 1) * $width), the same float products as the
-- stored edges (log bins cannot be regrouped into linear ones exactly); the guess
-- floor(ce / $width) is moved by one where rounding put it across an edge, and bin
-- $last_bin also takes every larger loss when $open_last (it ends at infinity).
-- A row whose ce, label or confidence is NULL is left out of that kind only. Unordered:
-- the caller sorts each kind as its chart reads it (report/data.py:model_groups).
-- Binds: $snapshot_date, $model, $epoch, $width, $last_bin, $open_last, $bins
WITH page AS (
    SELECT
        split, label, ce, correct, confidence,
        floor(ce / $width) AS guess,
        -- least() skips a NULL: a NULL confidence or ce must stay NULL, out of its kind
        CASE WHEN confidence IS NOT NULL
            THEN least(floor(confidence * $bins), $bins - 1)::INTEGER END AS confidence_bin
    FROM losses
    WHERE snapshot_date = $snapshot_date AND model = $model
      AND epoch IS NOT DISTINCT FROM $epoch
),
binned AS (
    SELECT
        split, label, ce, correct, confidence, confidence_bin,
        CASE WHEN ce IS NOT NULL THEN least($last_bin, CASE
            WHEN ce < guess * $width THEN guess - 1
            WHEN ce >= (guess + 1) * $width THEN guess + 1
            ELSE guess
        END)::BIGINT END AS bin
    FROM page
),
grouped AS (
    SELECT
        CASE grouping(bin, label, confidence_bin)
            WHEN 3 THEN 'linear' WHEN 5 THEN 'class' ELSE 'calibration' END AS kind,
        split, bin, label, confidence_bin,
        count(*) AS n,
        avg(ce) AS mean_ce,
        avg(correct::INTEGER) AS accuracy,
        avg(confidence) AS mean_confidence
    FROM binned
    GROUP BY GROUPING SETS ((split, bin), (split, label), (split, confidence_bin))
),
kept AS (
    -- the NULL group of a set's own column holds rows that kind leaves out
    SELECT * FROM grouped
    WHERE (kind = 'linear' AND bin IS NOT NULL)
       OR (kind = 'class' AND label IS NOT NULL)
       OR (kind = 'calibration' AND confidence_bin IS NOT NULL)
)
SELECT
    kept.kind, kept.split, kept.bin,
    kept.bin * $width AS lower,
    CASE WHEN $open_last AND kept.bin = $last_bin THEN 'inf'::DOUBLE
         ELSE (kept.bin + 1) * $width END AS upper,
    kept.n / sum(kept.n) OVER (PARTITION BY kept.kind, kept.split) AS fraction,
    kept.label,
    coalesce(names.name, CAST(kept.label AS VARCHAR)) AS class,
    kept.confidence_bin, kept.n, kept.mean_ce, kept.accuracy, kept.mean_confidence
FROM kept
LEFT JOIN class_names AS names
    ON kept.kind = 'class' AND names.snapshot_date = $snapshot_date
    AND names.model = $model AND names.label = kept.label
