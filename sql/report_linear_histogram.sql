-- The equal-width loss histogram of one model on one night at one epoch, counted from the
-- losses themselves (log bins cannot be regrouped into linear ones exactly). Bins are
-- [bin * $width, (bin + 1) * $width), the same float products as the stored edges; the
-- guess floor(ce / $width) is moved by one where rounding put it across an edge. Bin
-- $last_bin also takes every larger loss when $open_last (it ends at infinity).
-- Binds: $snapshot_date, $model, $epoch, $width, $last_bin, $open_last
WITH guessed AS (
    SELECT split, ce, floor(ce / $width) AS guess
    FROM losses
    WHERE snapshot_date = $snapshot_date AND model = $model
      AND epoch IS NOT DISTINCT FROM $epoch AND ce IS NOT NULL
),
binned AS (
    SELECT
        split,
        least($last_bin, CASE
            WHEN ce < guess * $width THEN guess - 1
            WHEN ce >= (guess + 1) * $width THEN guess + 1
            ELSE guess
        END)::BIGINT AS bin
    FROM guessed
)
SELECT
    split,
    bin,
    bin * $width AS lower,
    CASE WHEN $open_last AND bin = $last_bin THEN 'inf'::DOUBLE ELSE (bin + 1) * $width END
        AS upper,
    count(*) AS count,
    count(*) / sum(count(*)) OVER (PARTITION BY split) AS fraction
FROM binned
GROUP BY split, bin
ORDER BY split, bin
