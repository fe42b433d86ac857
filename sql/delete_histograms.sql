-- Remove one night's histograms of some models (before they are recomputed).
-- Binds: $snapshot_date, $models
DELETE FROM histogram_rows
WHERE snapshot_date = $snapshot_date AND in_models($models, model)
