-- The verdicts of one night (every model, or one). Binds: $snapshot_date, $models (list; empty = all)
SELECT * FROM verdicts
WHERE snapshot_date = $snapshot_date AND (len($models) = 0 OR list_contains($models, model))
ORDER BY model, heldout_split
