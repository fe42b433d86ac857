-- The shared samples that got most worse from A to B (labels and predictions by class
-- name where the dumps declared them). Binds: $limit
SELECT sample_id, label_name AS label, loss_a, loss_b, difference, pred_a, pred_b,
    confidence_a, confidence_b
FROM paired_losses
WHERE difference > 0
ORDER BY difference DESC, sample_id
LIMIT $limit
