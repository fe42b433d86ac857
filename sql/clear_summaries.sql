-- Remove one snapshot's summaries (before they are recomputed). Binds: $snapshot_date, $models
DELETE FROM summaries
WHERE snapshot_date = $snapshot_date AND in_models($models, model)
