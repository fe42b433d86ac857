-- Every loss of one snapshot with the index of its (model, split, epoch) group, for the
-- quantiles and the split statistics in numpy. Reads the registered frame
-- `summary_groups` (group_index, model, split, epoch): the summaries' rows, numbered.
-- Unordered: the caller streams it into one array per group (a DuckDB quantile_cont
-- holds two copies of the losses; an ORDER BY sorts them all).
-- Binds: $snapshot_date, $models (list; empty = every model)
SELECT groups.group_index, losses.ce
FROM losses
JOIN summary_groups AS groups
    ON losses.model = groups.model AND losses.split = groups.split
    AND losses.epoch IS NOT DISTINCT FROM groups.epoch
WHERE losses.snapshot_date = $snapshot_date
  AND in_models($models, losses.model)
