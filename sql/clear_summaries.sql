-- Remove one snapshot's summaries (before they are recomputed). Binds: $snapshot_date, $models
DELETE FROM summaries
WHERE snapshot_date = $snapshot_date AND (len($models) = 0 OR list_contains($models, model))
