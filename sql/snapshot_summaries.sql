-- The per-split summaries of one snapshot, for the verdicts. Binds: $snapshot_date, $models
SELECT * FROM summaries
WHERE snapshot_date = $snapshot_date AND (len($models) = 0 OR list_contains($models, model))
ORDER BY model, split, epoch
