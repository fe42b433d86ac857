-- The highest-loss held-out samples (label-issue candidates) of one model, night and
-- epoch, the label and the prediction named where the dumps declared class names.
-- Binds: $snapshot_date, $model, $epoch, $splits (list of held-out splits), $limit
SELECT split, sample_id, coalesce(label_name, CAST(label AS VARCHAR)) AS label,
    coalesce(pred_name, CAST(pred AS VARCHAR)) AS pred, confidence, ce
FROM named_losses
WHERE snapshot_date = $snapshot_date AND model = $model AND epoch IS NOT DISTINCT FROM $epoch
  AND list_contains($splits, split)
ORDER BY ce DESC, split, sample_id
LIMIT $limit
