-- One night's rows of histogram_rows, in a fixed order, for its Parquet file (the folder
-- names the night). Binds: $snapshot_date
SELECT model, split, epoch, label, scheme_id, bin, lower, upper, count, weight_sum,
    fraction, run_id
FROM histogram_rows
WHERE snapshot_date = $snapshot_date
ORDER BY model, split, epoch NULLS FIRST, label NULLS FIRST, bin
