-- The per-split summaries of one snapshot, for the verdicts. Binds: $snapshot_date, $models
SELECT * FROM summaries
WHERE snapshot_date = $snapshot_date AND in_models($models, model)
ORDER BY model, split, epoch
