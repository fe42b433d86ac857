-- The sweeps of one night (the view sweeps), with each member's train loss as a share of
-- H (to find the most underfit) from its verdict. Binds: $snapshot_date
SELECT s.*, v.mean_reference / nullif(v.label_entropy, 0) AS train_share_of_h
FROM sweeps AS s
LEFT JOIN verdicts AS v
    ON v.snapshot_date = s.snapshot_date AND v.model = s.model
    AND v.heldout_split = s.heldout_split
WHERE s.snapshot_date = $snapshot_date
ORDER BY s.sweep, s.model, s.param
