-- Store one verdict with the numbers and thresholds behind it. Binds: $snapshot_date,
-- $model, $heldout_split, $reference_split, $epoch, $verdict, $reason, $hints,
-- $n_reference, $n_heldout, $mean_reference, $mean_heldout, $gap, $normalised_gap,
-- $gap_ci_low, $gap_ci_high, $ks, $wasserstein, $mia_auc, $tpr_at_1pct_fpr,
-- $label_entropy, $ln_c, $best_epoch, $thresholds, $run_id, $error_gap, $clipped_share
INSERT INTO verdicts (
    snapshot_date, model, heldout_split, reference_split, epoch, verdict, reason, hints,
    n_reference, n_heldout, mean_reference, mean_heldout, gap, normalised_gap,
    gap_ci_low, gap_ci_high, ks, wasserstein, mia_auc, tpr_at_1pct_fpr,
    label_entropy, ln_c, best_epoch, thresholds, run_id, error_gap, clipped_share
) VALUES (
    $snapshot_date, $model, $heldout_split, $reference_split, $epoch, $verdict, $reason,
    $hints, $n_reference, $n_heldout, $mean_reference, $mean_heldout, $gap, $normalised_gap,
    $gap_ci_low, $gap_ci_high, $ks, $wasserstein, $mia_auc, $tpr_at_1pct_fpr,
    $label_entropy, $ln_c, $best_epoch, $thresholds, $run_id, $error_gap, $clipped_share
)
