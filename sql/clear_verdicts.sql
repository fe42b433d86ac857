-- Remove one snapshot's verdicts (before they are recomputed). Binds: $snapshot_date, $models
DELETE FROM verdicts
WHERE snapshot_date = $snapshot_date AND in_models($models, model)
