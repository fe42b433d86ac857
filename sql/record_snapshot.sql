-- Note which run last committed a night, and the loss settings its losses were computed
-- with. Binds: $snapshot_date, $run_id, $loss_settings, $loss_fingerprint
INSERT OR REPLACE INTO snapshots
VALUES ($snapshot_date, $run_id, now(), $loss_settings, $loss_fingerprint)
