-- Per value of each slice column with few values ($max_values at most, on this model's
-- night): samples and mean loss of the reference split and of the held-out splits, and
-- the gap between them; the worst slices first. Binds: $snapshot_date, $model, $epoch,
-- $slices (list of slice column names), $reference, $max_values
WITH long AS (
    UNPIVOT (
        SELECT split, ce, CAST(COLUMNS(lambda c: list_contains($slices, c)) AS VARCHAR)
        FROM losses
        WHERE snapshot_date = $snapshot_date AND model = $model
          AND epoch IS NOT DISTINCT FROM $epoch
    )
    ON COLUMNS(lambda c: list_contains($slices, c))
    INTO NAME slice VALUE value
),
few AS (
    SELECT slice FROM long GROUP BY slice HAVING count(DISTINCT value) <= $max_values
)
SELECT
    slice,
    value,
    count(*) FILTER (WHERE split = $reference) AS n_reference,
    avg(ce) FILTER (WHERE split = $reference) AS mean_reference,
    count(*) FILTER (WHERE split <> $reference) AS n_heldout,
    avg(ce) FILTER (WHERE split <> $reference) AS mean_heldout,
    avg(ce) FILTER (WHERE split <> $reference) - avg(ce) FILTER (WHERE split = $reference)
        AS gap
FROM long
WHERE slice IN (SELECT slice FROM few)
GROUP BY slice, value
ORDER BY gap DESC NULLS LAST, mean_heldout DESC NULLS LAST, slice, value
