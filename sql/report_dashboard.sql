-- Per night and model, for the dashboard's charts: the verdict, held-out mean loss and
-- gap / H of the model's first held-out split by name (the split judged_epochs follows),
-- over the latest $nights nights (a year of nights would make a page of megabytes).
-- Binds: $nights
SELECT snapshot_date, model, heldout_split, verdict, mean_heldout, normalised_gap
FROM verdicts
WHERE snapshot_date IN (
    SELECT DISTINCT snapshot_date FROM verdicts ORDER BY snapshot_date DESC LIMIT $nights
)
QUALIFY row_number() OVER (PARTITION BY snapshot_date, model ORDER BY heldout_split) = 1
ORDER BY snapshot_date, model
