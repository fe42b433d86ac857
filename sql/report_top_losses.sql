-- The highest-loss held-out samples (label-issue candidates) of one model, night and epoch.
-- Binds: $snapshot_date, $model, $epoch, $splits (list of held-out splits), $limit
SELECT split, sample_id, label, pred, confidence, ce
FROM losses
WHERE snapshot_date = $snapshot_date AND model = $model AND epoch IS NOT DISTINCT FROM $epoch
  AND list_contains($splits, split)
ORDER BY ce DESC, split, sample_id
LIMIT $limit
