-- Nights whose losses were computed with other loss settings than these. Binds:
-- $loss_fingerprint
SELECT snapshot_date FROM snapshots WHERE loss_fingerprint <> $loss_fingerprint
ORDER BY snapshot_date
