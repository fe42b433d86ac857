-- The loss quantiles of each summary row, computed in numpy from its sorted losses.
-- Reads the registered frame `summary_quantiles` (model, split, epoch, median_ce, p90_ce,
-- p99_ce). Binds: $snapshot_date
UPDATE summaries
SET median_ce = q.median_ce, p90_ce = q.p90_ce, p99_ce = q.p99_ce
FROM summary_quantiles AS q
WHERE summaries.snapshot_date = $snapshot_date
  AND summaries.model = q.model AND summaries.split = q.split
  AND summaries.epoch IS NOT DISTINCT FROM q.epoch
