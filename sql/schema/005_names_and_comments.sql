-- One name for the entropy of the reference split's labels (H): label_entropy, as in
-- summaries and on the pages.
ALTER TABLE verdicts RENAME COLUMN prior_entropy TO label_entropy;

-- The histograms table holds two kinds of rows: per split over all classes (label NULL)
-- and per class; summing `count` over both counts every sample twice. Two views, each
-- with one kind.
CREATE OR REPLACE VIEW loss_histograms AS
SELECT snapshot_date, model, split, epoch, scheme_id, bin, lower, upper, count, weight_sum,
    fraction, run_id
FROM histograms
WHERE label IS NULL;

CREATE OR REPLACE VIEW class_loss_histograms AS
SELECT snapshot_date, model, split, epoch, label, scheme_id, bin, lower, upper, count,
    weight_sum, fraction, run_id
FROM histograms
WHERE label IS NOT NULL;

COMMENT ON TABLE bin_schemes IS 'The loss bins of each bin scheme: bin b covers [lower, upper).';
COMMENT ON COLUMN bin_schemes.scheme_id IS 'The bin scheme (default log: [0, 1e-4), 20 log bins a decade to 100, [100, inf)).';
COMMENT ON COLUMN bin_schemes.bin IS 'Bin number, from 0 at the lowest loss.';
COMMENT ON COLUMN bin_schemes.lower IS 'Lowest loss in the bin (nats, inclusive).';
COMMENT ON COLUMN bin_schemes.upper IS 'End of the bin (nats, exclusive; inf for the last).';

COMMENT ON TABLE catalog_location IS 'Where this catalog file was when its stored losses view was made; a copied or moved catalog makes the view again.';
COMMENT ON COLUMN catalog_location.path IS 'Absolute path of the catalog file.';

COMMENT ON TABLE histograms IS 'Loss histograms per night, model, split and epoch, on a fixed bin scheme; rows with label NULL count all classes, the others one class each (use the views loss_histograms and class_loss_histograms to get one kind).';
COMMENT ON COLUMN histograms.snapshot_date IS 'The night (snapshot) the losses belong to.';
COMMENT ON COLUMN histograms.model IS 'Model name.';
COMMENT ON COLUMN histograms.split IS 'Data split (train, val, test, ...).';
COMMENT ON COLUMN histograms.epoch IS 'Training epoch of the predictions; NULL when the dump has none.';
COMMENT ON COLUMN histograms.label IS 'The class of a per-class row; NULL for the row over all classes.';
COMMENT ON COLUMN histograms.scheme_id IS 'The bin scheme (bin_schemes).';
COMMENT ON COLUMN histograms.bin IS 'Bin number in the scheme; only non-empty bins are stored.';
COMMENT ON COLUMN histograms.lower IS 'Lowest loss in the bin (nats, inclusive).';
COMMENT ON COLUMN histograms.upper IS 'End of the bin (nats, exclusive).';
COMMENT ON COLUMN histograms.count IS 'Samples whose cross-entropy lies in the bin.';
COMMENT ON COLUMN histograms.weight_sum IS 'Sum of the sample weights of those samples (1 each without a weight column).';
COMMENT ON COLUMN histograms.fraction IS 'count / samples of the group (night, model, split, epoch, and class for a per-class row).';
COMMENT ON COLUMN histograms.run_id IS 'The run that computed the row (job_runs).';

COMMENT ON VIEW loss_histograms IS 'Loss histograms over all classes: one row per night, model, split, epoch and non-empty bin.';
COMMENT ON VIEW class_loss_histograms IS 'Loss histograms per class: one row per night, model, split, epoch, class and non-empty bin.';

COMMENT ON TABLE ingested_files IS 'Every dump a run read, per night: ingested or rejected, with its size, times and sha256 (a dump is read again only when it changes).';
COMMENT ON COLUMN ingested_files.path IS 'Path of the dump file when read.';
COMMENT ON COLUMN ingested_files.size IS 'Size in bytes when read.';
COMMENT ON COLUMN ingested_files.mtime IS 'Modification time when read.';
COMMENT ON COLUMN ingested_files.sha256 IS 'sha256 of the file when read.';
COMMENT ON COLUMN ingested_files.snapshot_date IS 'The night it was read into.';
COMMENT ON COLUMN ingested_files.status IS 'ingested, or rejected (see error).';
COMMENT ON COLUMN ingested_files.rows IS 'Rows that landed in losses.';
COMMENT ON COLUMN ingested_files.rows_ignored IS 'Rows left out because their label is the ignore_index.';
COMMENT ON COLUMN ingested_files.rows_rejected IS 'Rows dropped by bad_rows = skip (rejected_rows names them).';
COMMENT ON COLUMN ingested_files.error IS 'Why the dump was rejected: file, column and rows.';
COMMENT ON COLUMN ingested_files.run_id IS 'The run that read it (job_runs).';
COMMENT ON COLUMN ingested_files.inbox IS 'The inbox folder it was read from (key=value folders count below it).';

COMMENT ON TABLE job_runs IS 'One row per run of the job (run, rerun, backfill, demo, schedule): what it did and how it ended.';
COMMENT ON COLUMN job_runs.run_id IS 'Run identifier; the run_id column of other tables points here.';
COMMENT ON COLUMN job_runs.command IS 'The command that started it.';
COMMENT ON COLUMN job_runs.started_at IS 'Start time.';
COMMENT ON COLUMN job_runs.finished_at IS 'End time; NULL while running or when the process died.';
COMMENT ON COLUMN job_runs.status IS 'running, succeeded, partial (some dumps rejected or pages not written) or failed.';
COMMENT ON COLUMN job_runs.snapshot_dates IS 'The nights it committed.';
COMMENT ON COLUMN job_runs.files_seen IS 'Dumps found in the inbox.';
COMMENT ON COLUMN job_runs.files_ingested IS 'Dumps that landed.';
COMMENT ON COLUMN job_runs.files_rejected IS 'Dumps rejected whole.';
COMMENT ON COLUMN job_runs.files_unchanged IS 'Dumps left alone because an earlier run read them as they are.';
COMMENT ON COLUMN job_runs.rows_ingested IS 'Rows that landed in losses.';
COMMENT ON COLUMN job_runs.rows_rejected IS 'Rows dropped (bad_rows = skip).';
COMMENT ON COLUMN job_runs.seconds IS 'Wall time of the job, reports excluded.';
COMMENT ON COLUMN job_runs.error IS 'Why it failed, when it did.';
COMMENT ON COLUMN job_runs.lossgram_version IS 'The lossgram version that ran.';
COMMENT ON COLUMN job_runs.settings IS 'The settings that shape the numbers, and the engine (JSON).';
COMMENT ON COLUMN job_runs.settings_fingerprint IS 'sha256 of those settings: nights made with other settings are stale.';
COMMENT ON COLUMN job_runs.reports_error IS 'Why the pages of its nights could not be written, when they could not.';

COMMENT ON TABLE live_files IS 'The committed per-sample Parquet files: the losses view reads exactly these.';
COMMENT ON COLUMN live_files.path IS 'Path relative to the warehouse.';
COMMENT ON COLUMN live_files.snapshot_date IS 'The night of its rows.';
COMMENT ON COLUMN live_files.model IS 'The model of its rows.';
COMMENT ON COLUMN live_files.dump_path IS 'The dump it was computed from.';
COMMENT ON COLUMN live_files.rows IS 'Rows in the file.';
COMMENT ON COLUMN live_files.run_id IS 'The run that committed it.';
COMMENT ON COLUMN live_files.loss_fingerprint IS 'Fingerprint of the loss settings it was computed with.';

COMMENT ON TABLE pending_reports IS 'Nights whose pages a run could not write; the next run writes them.';
COMMENT ON COLUMN pending_reports.snapshot_date IS 'The night.';

COMMENT ON TABLE rejected_rows IS 'Rows dropped under bad_rows = skip, each with the rule it broke.';
COMMENT ON COLUMN rejected_rows.snapshot_date IS 'The night.';
COMMENT ON COLUMN rejected_rows.path IS 'The dump file.';
COMMENT ON COLUMN rejected_rows.sample_id IS 'The row''s sample_id, as text.';
COMMENT ON COLUMN rejected_rows.column_name IS 'The column that broke the rule.';
COMMENT ON COLUMN rejected_rows.problem IS 'The rule it broke, in words.';
COMMENT ON COLUMN rejected_rows.run_id IS 'The run that dropped it.';

COMMENT ON TABLE retired_files IS 'Per-sample files a later commit replaced, kept an hour for readers that still have them open, then deleted.';
COMMENT ON COLUMN retired_files.path IS 'Path relative to the warehouse.';
COMMENT ON COLUMN retired_files.retired_at IS 'When it was replaced.';
COMMENT ON COLUMN retired_files.run_id IS 'The run that replaced it.';

COMMENT ON TABLE schema_version IS 'The migrations (sql/schema/NNN_*.sql) applied to this catalog.';
COMMENT ON COLUMN schema_version.version IS 'Migration number.';
COMMENT ON COLUMN schema_version.name IS 'Migration file.';
COMMENT ON COLUMN schema_version.applied_at IS 'When it was applied.';

COMMENT ON TABLE skipped_entries IS 'Inbox entries a run did not read (not Parquet, a pipe, a dangling link, a folder it may not list), with why.';
COMMENT ON COLUMN skipped_entries.run_id IS 'The run that skipped it.';
COMMENT ON COLUMN skipped_entries.path IS 'The entry.';
COMMENT ON COLUMN skipped_entries.reason IS 'Why it was not read.';

COMMENT ON TABLE slice_columns IS 'Extra dump columns carried into losses (slices), with the type they first landed with.';
COMMENT ON COLUMN slice_columns.name IS 'Column name.';
COMMENT ON COLUMN slice_columns.arrow_type IS 'Its Arrow type.';
COMMENT ON COLUMN slice_columns.first_dump IS 'The first dump that brought it.';

COMMENT ON TABLE snapshots IS 'One row per committed night: the run that last committed it and the loss settings it used.';
COMMENT ON COLUMN snapshots.snapshot_date IS 'The night.';
COMMENT ON COLUMN snapshots.run_id IS 'The run that last committed it.';
COMMENT ON COLUMN snapshots.committed_at IS 'When.';
COMMENT ON COLUMN snapshots.loss_settings IS 'The loss settings of its losses (JSON).';
COMMENT ON COLUMN snapshots.loss_fingerprint IS 'Their fingerprint.';

COMMENT ON TABLE summaries IS 'Loss statistics per night, model, split and epoch (all classes).';
COMMENT ON COLUMN summaries.snapshot_date IS 'The night.';
COMMENT ON COLUMN summaries.model IS 'Model name.';
COMMENT ON COLUMN summaries.split IS 'Data split.';
COMMENT ON COLUMN summaries.epoch IS 'Training epoch; NULL when the dump has none.';
COMMENT ON COLUMN summaries.n IS 'Samples.';
COMMENT ON COLUMN summaries.mean_ce IS 'Mean cross-entropy (nats).';
COMMENT ON COLUMN summaries.std_ce IS 'Population standard deviation of the cross-entropy.';
COMMENT ON COLUMN summaries.median_ce IS 'Median cross-entropy (linear interpolation, as numpy).';
COMMENT ON COLUMN summaries.p90_ce IS '90th percentile of the cross-entropy.';
COMMENT ON COLUMN summaries.p99_ce IS '99th percentile of the cross-entropy.';
COMMENT ON COLUMN summaries.max_ce IS 'Largest cross-entropy.';
COMMENT ON COLUMN summaries.accuracy IS 'Share of samples whose top-scoring class is the label.';
COMMENT ON COLUMN summaries.mean_confidence IS 'Mean probability of the predicted class.';
COMMENT ON COLUMN summaries.ece IS 'Expected calibration error: 15 equal-width confidence bins, |accuracy - confidence| weighted by bin size.';
COMMENT ON COLUMN summaries.brier IS 'Multi-class Brier score: squared error summed over classes, averaged over samples.';
COMMENT ON COLUMN summaries.clipped IS 'Samples whose probability was clipped at eps (loss = -log(eps)).';
COMMENT ON COLUMN summaries.n_classes IS 'Number of classes C.';
COMMENT ON COLUMN summaries.ln_c IS 'ln C: the loss of a model that knows nothing (uniform prediction).';
COMMENT ON COLUMN summaries.label_entropy IS 'H: entropy of this split''s labels (nats), the loss of a model that knows only the class frequencies.';
COMMENT ON COLUMN summaries.run_id IS 'The run that computed the row.';

COMMENT ON TABLE verdicts IS 'The fit verdict of each model and held-out split per night, with the numbers and thresholds behind it.';
COMMENT ON COLUMN verdicts.snapshot_date IS 'The night.';
COMMENT ON COLUMN verdicts.model IS 'Model name.';
COMMENT ON COLUMN verdicts.heldout_split IS 'The held-out split judged (test, val).';
COMMENT ON COLUMN verdicts.reference_split IS 'The split it is compared with (train).';
COMMENT ON COLUMN verdicts.epoch IS 'The judged epoch: the latest both splits have (NULL without epochs).';
COMMENT ON COLUMN verdicts.verdict IS 'overfit, underfit, good_fit or insufficient_data.';
COMMENT ON COLUMN verdicts.reason IS 'One sentence: why.';
COMMENT ON COLUMN verdicts.hints IS 'Tuning hints that follow from the evidence.';
COMMENT ON COLUMN verdicts.n_reference IS 'Samples of the reference split.';
COMMENT ON COLUMN verdicts.n_heldout IS 'Samples of the held-out split.';
COMMENT ON COLUMN verdicts.mean_reference IS 'Mean loss of the reference split.';
COMMENT ON COLUMN verdicts.mean_heldout IS 'Mean loss of the held-out split.';
COMMENT ON COLUMN verdicts.gap IS 'mean_heldout - mean_reference (nats).';
COMMENT ON COLUMN verdicts.normalised_gap IS 'gap / label_entropy: the gap as a share of H.';
COMMENT ON COLUMN verdicts.gap_ci_low IS 'Lower end of the 95% bootstrap confidence interval of the gap.';
COMMENT ON COLUMN verdicts.gap_ci_high IS 'Upper end of that interval.';
COMMENT ON COLUMN verdicts.ks IS 'Two-sample Kolmogorov-Smirnov statistic between the two splits'' losses.';
COMMENT ON COLUMN verdicts.wasserstein IS 'Wasserstein-1 distance between the two splits'' losses (nats).';
COMMENT ON COLUMN verdicts.mia_auc IS 'Membership-inference AUC: how well a loss threshold tells a training sample (member) from a held-out one; 0.5 = not at all.';
COMMENT ON COLUMN verdicts.tpr_at_1pct_fpr IS 'That attack''s true-positive rate (training samples caught) when at most 1% of held-out samples are flagged.';
COMMENT ON COLUMN verdicts.label_entropy IS 'H: entropy of the reference split''s labels (nats), the loss of a model that knows only the class frequencies.';
COMMENT ON COLUMN verdicts.ln_c IS 'ln C: the loss of a uniform prediction.';
COMMENT ON COLUMN verdicts.best_epoch IS 'The epoch with the lowest held-out mean loss (NULL without epochs).';
COMMENT ON COLUMN verdicts.thresholds IS 'The thresholds the rules used (JSON).';
COMMENT ON COLUMN verdicts.run_id IS 'The run that decided it.';

COMMENT ON VIEW judged_epochs IS 'The epoch each model''s night is shown at: its verdicts'' judged epoch, or its latest epoch.';
