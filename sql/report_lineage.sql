-- What made one night's numbers: the run that committed it, its lossgram version and
-- settings fingerprint, and the loss settings of its losses. Binds: $snapshot_date
SELECT s.run_id, s.committed_at, s.loss_settings, s.loss_fingerprint,
       j.lossgram_version, j.settings_fingerprint
FROM snapshots AS s LEFT JOIN job_runs AS j USING (run_id)
WHERE s.snapshot_date = $snapshot_date
