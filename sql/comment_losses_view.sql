-- Say what the losses view is (made again at every commit, which drops its comment).
-- Binds: none
COMMENT ON VIEW losses IS 'Per-sample losses: one row per sample, model, split, epoch and night, read from the committed Parquet files (live_files). ce is the cross-entropy in nats; p_true the probability of the true class; pred the top-scoring class; correct = pred is the label; confidence the top probability; clipped = the probability was clipped at eps; brier the multi-class Brier score; n_classes C; weight the sample weight (1 without one); extra columns are the dump''s slice columns.'
