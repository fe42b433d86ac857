-- Remove one snapshot's histograms (before they are recomputed). Binds: $snapshot_date, $models
DELETE FROM histograms
WHERE snapshot_date = $snapshot_date AND in_models($models, model)
