-- The verdicts of one night (every model, or one). Binds: $snapshot_date, $models (list; empty = all)
SELECT * FROM verdicts
WHERE snapshot_date = $snapshot_date AND in_models($models, model)
ORDER BY model, heldout_split
