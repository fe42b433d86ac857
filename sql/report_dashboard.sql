-- Per night and model, for the overview's charts: the verdict, held-out mean loss and
-- gap / H of the model's first held-out split by name (the split judged_epochs follows).
-- Binds: none
SELECT snapshot_date, model, heldout_split, verdict, mean_heldout, normalised_gap
FROM verdicts
QUALIFY row_number() OVER (PARTITION BY snapshot_date, model ORDER BY heldout_split) = 1
ORDER BY snapshot_date, model
