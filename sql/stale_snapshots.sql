-- Nights holding losses computed with other loss settings than these (or with settings
-- nobody recorded). Binds: $loss_fingerprint
SELECT DISTINCT snapshot_date FROM live_files
WHERE loss_fingerprint IS DISTINCT FROM $loss_fingerprint
ORDER BY snapshot_date
